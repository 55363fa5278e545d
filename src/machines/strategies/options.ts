/**
 * Validation helpers for `strategyOptions`: every problem becomes
 * `RunManagerError('INVALID_OPTIONS')` whose message names the option.
 */
import { RunManagerError } from '../../errors.js';

/**
 * The error for a bad option.
 *
 * @example
 * ```ts
 * throw invalidOption('strategyOptions.runId', 'must be a non-empty string');
 * // RunManagerError INVALID_OPTIONS: "strategyOptions.runId must be a non-empty string"
 * ```
 */
export function invalidOption(path: string, problem: string): RunManagerError {
  return new RunManagerError('INVALID_OPTIONS', `${path} ${problem}`);
}

/**
 * True for `{}`-style objects (not arrays, not class instances like Date).
 *
 * @example
 * ```ts
 * isPlainObject({ a: 1 }); // true
 * isPlainObject([1]);      // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks an optional plain-object option; returns it (or `undefined`).
 *
 * @example
 * ```ts
 * const filter = optionalObject(options.filter, 'strategyOptions.filter');
 * ```
 */
export function optionalObject(value: unknown, path: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw invalidOption(path, `must be a plain object, got ${describe(value)}`);
  return value;
}

/**
 * Checks an optional function option; returns it (or `undefined`).
 *
 * @example
 * ```ts
 * const onCreate = optionalFunction(options.onCreate, 'strategyOptions.onCreate');
 * ```
 */
export function optionalFunction<T extends (...args: never[]) => unknown>(value: unknown, path: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidOption(path, `must be a function, got ${describe(value)}`);
  return value as T;
}

/**
 * Checks a required non-empty string option.
 *
 * @example
 * ```ts
 * const runId = requiredString(options.runId, 'strategyOptions.runId');
 * ```
 */
export function requiredString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(path, `is required and must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/**
 * A short description of a value for error messages (never its full content).
 *
 * @example
 * ```ts
 * describe([1, 2]); // 'an array'
 * ```
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  switch (typeof value) {
    case 'string':
      return value === '' ? 'an empty string' : `the string ${JSON.stringify(value.slice(0, 40))}`;
    case 'number':
      return `the number ${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function checkFilterValue(value: unknown, path: string, depth: number): void {
  if (value === undefined || value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidOption(path, `must be a finite number, got ${String(value)}`);
    return;
  }
  if (depth > 8) throw invalidOption(path, 'is nested too deeply');
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkFilterValue(item, `${path}[${index}]`, depth + 1));
    return;
  }
  if (!isPlainObject(value)) {
    throw invalidOption(path, `must be a string, number, boolean, null, array or plain object, got ${describe(value)}${value instanceof Date ? ' (a Date: pass date.toISOString())' : ''}`);
  }
  for (const [key, child] of Object.entries(value)) checkFilterValue(child, `${path}.${key}`, depth + 1);
}

/**
 * Checks an optional matrix filter option: a plain object whose leaves are strings, finite numbers,
 * booleans or null (arrays meaning "any of", nested objects meaning dotted keys); returns it.
 *
 * @example
 * ```ts
 * optionalFilter({ saved: true, scope: { region: 'eu' } }, 'strategyOptions.filter'); // the filter
 * optionalFilter({ created: new Date() }, 'strategyOptions.filter'); // throws INVALID_OPTIONS
 * ```
 */
export function optionalFilter(value: unknown, path: string): Record<string, unknown> | undefined {
  const filter = optionalObject(value, path);
  if (filter) for (const [key, child] of Object.entries(filter)) checkFilterValue(child, `${path}.${key}`, 1);
  return filter;
}
