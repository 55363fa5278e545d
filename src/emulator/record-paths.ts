/**
 * Dotted field paths into run records (`scope.trackingKey`, `user.id`, `.price` for
 * `variables.price`), shared by filters, sorting and PATCH.
 */
import { HttpError } from './http.js';

/** Path segments that would reach an object's prototype; refused everywhere. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Splits a dotted key into path segments; a leading `.` means `variables.` (spec §2.1).
 * Empty segments and prototype names are refused with 400.
 *
 * @example
 * ```ts
 * splitKey('.price');            // ['variables', 'price']
 * splitKey('scope.trackingKey'); // ['scope', 'trackingKey']
 * ```
 */
export function splitKey(key: string): string[] {
  const normalized = key.startsWith('.') ? `variables${key}` : key;
  const segments = normalized.split('.');
  for (const segment of segments) {
    if (segment === '') throw new HttpError(400, `invalid field path "${key}"`);
    if (FORBIDDEN_SEGMENTS.has(segment)) throw new HttpError(400, `field path "${key}" is not allowed`);
  }
  return segments;
}

/**
 * Whether a plain object (not an array, not null).
 *
 * @example
 * ```ts
 * isRecord({ a: 1 }); // true
 * isRecord([1]);      // false
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads the value at a path (own properties only); `undefined` when any step is missing.
 *
 * @example
 * ```ts
 * getPath({ scope: { group: 'g1' } }, ['scope', 'group']); // 'g1'
 * ```
 */
export function getPath(record: unknown, segments: readonly string[]): unknown {
  let current: unknown = record;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Sets the value at a path, creating (or replacing non-object) intermediate objects.
 *
 * @example
 * ```ts
 * const run = { scope: null };
 * setPath(run, ['scope', 'trackingKey'], 'tk'); // run.scope = { trackingKey: 'tk' }
 * ```
 */
export function setPath(record: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let current = record;
  for (let index = 0; index < segments.length - 1; index += 1) {
    const segment = segments[index] as string;
    const next = current[segment];
    if (isRecord(next)) {
      current = next;
    } else {
      const created: Record<string, unknown> = {};
      current[segment] = created;
      current = created;
    }
  }
  current[segments[segments.length - 1] as string] = value;
}

/**
 * Refuses (400) an object whose own keys include a prototype name.
 *
 * @example
 * ```ts
 * assertSafeKeys({ price: 1 }); // ok
 * ```
 */
export function assertSafeKeys(values: Record<string, unknown>): void {
  for (const key of Object.keys(values)) {
    if (FORBIDDEN_SEGMENTS.has(key)) throw new HttpError(400, `key "${key}" is not allowed`);
  }
}

/**
 * Shallow-merges `values` into `target`, refusing prototype names with 400 (before changing anything).
 *
 * @example
 * ```ts
 * mergeInto(run.variables, { price: 12 });
 * ```
 */
export function mergeInto(target: Record<string, unknown>, values: Record<string, unknown>): void {
  assertSafeKeys(values);
  for (const [key, value] of Object.entries(values)) target[key] = value;
}
