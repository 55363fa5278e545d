/** Every operation shape `serial()` / `parallel()` accept, normalised to `{ name, args }` calls. */
import { describeThrown, RunManagerError } from '../errors.js';
import type { OperationResult, Operations } from '../types.js';

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
  return Array.isArray(value) ? [...(value as unknown[])] : [value];
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
 * Any accepted shape into calls: `'solve'`, `('echo', 'hello')` (a non-array argument is wrapped),
 * `{ name, params }`, `{ add: [1, 2], step: [10] }` (each key in order), or an array of those.
 * Malformed input throws `INVALID_OPTIONS` saying what is wrong.
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

/** One model operation on a run, as a Run API client sends it. */
export type CallOperation = (name: string, args: unknown[]) => Promise<OperationResult>;

/** The error of the `index`-th of `count` operations, naming it; the server's status and code kept. */
function operationFailed(error: unknown, index: number, count: number, name: string): RunManagerError {
  const failure = error instanceof RunManagerError ? error : new RunManagerError('HTTP_ERROR', describeThrown(error));
  return new RunManagerError(failure.type, `Operation ${index + 1} of ${count} ('${name}') failed: ${failure.message}`, {
    status: failure.status,
    cause: failure,
    ...(failure.code !== undefined ? { code: failure.code } : {}),
  });
}

/** Calls the operations one at a time, in order; the first failure stops the rest. */
export async function callInSeries(operations: Operations, call: CallOperation): Promise<OperationResult[]> {
  const calls = normalizeOperations(operations);
  const results: OperationResult[] = [];
  for (const [index, { name, args }] of calls.entries()) {
    try {
      results.push(await call(name, args));
    } catch (error) {
      throw operationFailed(error, index, calls.length, name);
    }
  }
  return results;
}

/** Calls the operations all at once; results in order. */
export function callInParallel(operations: Operations, call: CallOperation): Promise<OperationResult[]> {
  const calls = normalizeOperations(operations);
  return Promise.all(
    calls.map(({ name, args }, index) =>
      call(name, args).catch((error: unknown) => {
        throw operationFailed(error, index, calls.length, name);
      }),
    ),
  );
}
