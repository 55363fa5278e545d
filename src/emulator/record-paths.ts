/** Dotted field paths into run records (`scope.trackingKey`, `.price` for `variables.price`), shared by filters, sorting and PATCH. */
import { HttpError } from './http.js';

/** Refused everywhere: these segments would reach an object's prototype. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Splits a dotted key into segments (a leading `.` means `variables.`); empty and prototype segments are 400. */
export function splitKey(key: string): string[] {
  const normalized = key.startsWith('.') ? `variables${key}` : key;
  const segments = normalized.split('.');
  for (const segment of segments) {
    if (segment === '') throw new HttpError(400, `invalid field path "${key}"`);
    if (FORBIDDEN_SEGMENTS.has(segment)) throw new HttpError(400, `field path "${key}" is not allowed`);
  }
  return segments;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value at a path (own properties only), or `undefined`. */
export function getPath(record: unknown, segments: readonly string[]): unknown {
  let current: unknown = record;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Sets the value at a path, creating (or replacing non-object) intermediate objects. */
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

export function assertSafeKeys(values: Record<string, unknown>): void {
  for (const key of Object.keys(values)) {
    if (FORBIDDEN_SEGMENTS.has(key)) throw new HttpError(400, `key "${key}" is not allowed`);
  }
}

/** Shallow-merges `values` into `target`, refusing prototype names with 400 before changing anything. */
export function mergeInto(target: Record<string, unknown>, values: Record<string, unknown>): void {
  assertSafeKeys(values);
  for (const [key, value] of Object.entries(values)) target[key] = value;
}
