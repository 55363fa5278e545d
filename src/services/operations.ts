/**
 * Operation normalisation (spec §2.5): every shape `serial()` / `parallel()` accept becomes a list
 * of `{ name, args }` calls, each later sent as `POST …/operations/{name}/` with `{ arguments: args }`.
 */
import { RunManagerError } from '../errors.js';
import type { Operations } from '../types.js';

/**
 * One normalised operation call.
 *
 * @example
 * ```ts
 * const call: NormalizedOperation = { name: 'step', args: [10] };
 * ```
 */
export interface NormalizedOperation {
  name: string;
  args: unknown[];
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `a ${typeof value}`;
}

function invalid(message: string): RunManagerError {
  return new RunManagerError('INVALID_OPTIONS', `Invalid operations: ${message}`);
}

function toArgs(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...value] : [value];
}

function checkName(name: unknown, where: string): string {
  if (typeof name !== 'string') throw invalid(`${where}: the operation name must be a string, got ${describe(name)}`);
  if (name.trim() === '') throw invalid(`${where}: the operation name is empty`);
  return name;
}

function fromObject(object: object, where: string): NormalizedOperation[] {
  const record = object as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(record, 'name')) {
    const name = checkName(record.name, `${where} ({ name, params })`);
    const extra = Object.keys(record).filter((key) => key !== 'name' && key !== 'params');
    if (extra.length > 0) {
      throw invalid(`${where}: an operation { name, params } has unexpected key(s) ${extra.map((k) => `'${k}'`).join(', ')}`);
    }
    return [{ name, args: toArgs(record.params) }];
  }
  const keys = Object.keys(record);
  if (keys.length === 0) throw invalid(`${where}: the object names no operation`);
  return keys.map((key) => ({ name: checkName(key, where), args: toArgs(record[key]) }));
}

function fromItem(item: unknown, where: string): NormalizedOperation[] {
  if (typeof item === 'string') return [{ name: checkName(item, where), args: [] }];
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) return fromObject(item, where);
  throw invalid(`${where}: expected an operation name or object, got ${describe(item)}`);
}

/**
 * Turns any accepted operation shape into a list of calls (spec §2.5):
 * - `'solve'` → `solve()`; with `args`, `('echo', 'hello')` → `echo('hello')` (a non-array argument
 *   is wrapped) and `('sumArray', [[4, 2, 1]])` → one array argument;
 * - `{ name: 'add', params: [2, 4] }` (a non-array `params` is wrapped);
 * - `{ add: [1, 2], subtract: [2, 4] }` (each key an operation, in order);
 * - an array mixing names and both object forms: `['init', { step: [10] }]`.
 *
 * `args` may only accompany a single operation name. Malformed input (an empty name, an empty list,
 * a number, `null`, nested arrays, an object with a non-string `name` or stray keys next to
 * `name`/`params`) throws a `RunManagerError` of type `INVALID_OPTIONS` that says what is wrong.
 *
 * @example
 * ```ts
 * normalizeOperations(['init', { step: [10] }]);
 * // [{ name: 'init', args: [] }, { name: 'step', args: [10] }]
 * normalizeOperations('echo', 'hello'); // [{ name: 'echo', args: ['hello'] }]
 * ```
 */
export function normalizeOperations(operations: Operations, args?: unknown): NormalizedOperation[] {
  const input: unknown = operations;
  if (typeof input === 'string') {
    return [{ name: checkName(input, 'operation'), args: toArgs(args) }];
  }
  if (args !== undefined) {
    throw invalid('arguments can only be given together with a single operation name');
  }
  if (Array.isArray(input)) {
    if (input.length === 0) throw invalid('the list of operations is empty');
    return input.flatMap((item, index) => fromItem(item, `operation ${index}`));
  }
  return fromItem(input, 'operation');
}
