/**
 * Option validation: every problem is `INVALID_OPTIONS` naming the option. Also the shared key rules
 * (unknown keys, near misses, prototype keys) and what values must be to survive JSON to the server.
 */
import { describeThrown, RunManagerError } from '../../errors.js';
import type { SelfAssignOptions } from '../../services/api-types.js';
import { defineOwn, isPlainObject } from '../../services/values.js';

export function invalidOption(path: string, problem: string): RunManagerError {
  return new RunManagerError('INVALID_OPTIONS', `${path} ${problem}`);
}

export { isPlainObject };

export function optionalObject(value: unknown, path: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw invalidOption(path, `must be a plain object, got ${describe(value)}`);
  return value;
}

export function optionalFunction<T extends (...args: never[]) => unknown>(value: unknown, path: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidOption(path, `must be a function, got ${describe(value)}`);
  return value as T;
}

export function requiredString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(path, `is required and must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** A short description of a value for error messages, never its content; never throws, even for a revoked proxy. */
export function describe(value: unknown): string {
  try {
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
  } catch {
    return 'an unreadable value';
  }
}

/** `key` as it reads in an option path: plain names as they are, anything else quoted. */
export function optionPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key.slice(0, 40))}]`;
}

/** Assigned on a plain object, these change its prototype or reach `Object.prototype`. */
const PROTO_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isProtoKey(key: string): boolean {
  return PROTO_KEYS.has(key);
}

function protoKeyError(path: string): RunManagerError {
  return invalidOption(path, 'is not allowed: keys named __proto__, constructor or prototype could change every object when merged');
}

/** Deeper data is refused rather than risk the stack. */
const MAX_DEPTH = 32;

/** Throws for the first prototype key at any depth of plain objects and arrays (other objects are not walked). */
export function rejectProtoKeys(value: unknown, path: string): void {
  const seen = new Set<object>();
  const walk = (node: unknown, at: string, depth: number): void => {
    if (node === null || typeof node !== 'object' || seen.has(node) || depth > MAX_DEPTH) return;
    const array = Array.isArray(node);
    if (!array && !isPlainObject(node)) return;
    seen.add(node);
    if (array) {
      node.forEach((item, index) => walk(item, `${at}[${index}]`, depth + 1));
      return;
    }
    for (const key of Object.keys(node)) {
      if (isProtoKey(key)) throw protoKeyError(`${at}.${key}`);
      walk(node[key], optionPath(at, key), depth + 1);
    }
  };
  walk(value, path, 0);
}

function normalisedKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * How far `key` is from `known` when it is a likely misspelling, else `undefined`: ignoring case,
 * `_` and `-`, at most 2 edits from a key of 5+ characters, 1 from a shorter one.
 */
function closeness(key: string, known: string): number | undefined {
  const a = normalisedKey(key);
  const b = normalisedKey(known);
  if (a === b) return 0;
  const allowed = b.length >= 5 ? 2 : 1;
  if (Math.abs(a.length - b.length) > allowed) return undefined;
  const distance = editDistance(a, b);
  return distance <= allowed ? distance : undefined;
}

/** The known key `key` most likely means (see `closeness`), or `undefined`; ties go to the first. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    if (candidate === key) continue;
    const distance = closeness(key, candidate);
    if (distance !== undefined && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

export interface UnknownKeyWording {
  /** Appended as "is not an option of …"; omitted for the top level. */
  of?: string;
  /** Said when no known key is close (e.g. which other strategy takes this key). */
  otherwise?: (key: string) => string | undefined;
}

/** Throws for the first key not in `known`, with the key it likely meant: `stratgy is not an option (did you mean strategy?)`. */
export function rejectUnknownKeys(
  object: Record<string, unknown>,
  known: readonly string[],
  path: string,
  wording: UnknownKeyWording = {},
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const at = optionPath(path, key);
    if (isProtoKey(key)) throw protoKeyError(at);
    const suggestion = closestKey(key, known);
    const hint = suggestion
      ? `did you mean ${suggestion}?`
      : (wording.otherwise?.(key) ?? (known.length > 0 ? `options: ${known.join(', ')}` : 'it takes none'));
    throw invalidOption(at, `is not an option${wording.of ? ` of ${wording.of}` : ''} (${hint})`);
  }
}

/** Throws for a near miss of a key the library reads in an app-owned object: a misspelt setting would otherwise be silently ignored. */
export function rejectNearMisses(object: Record<string, unknown>, read: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (read.includes(key)) continue;
    const meant = closestKey(key, read);
    if (meant) {
      throw new RunManagerError(
        'INVALID_OPTIONS',
        `${optionPath(path, key)}: did you mean ${meant}? (a key this close to one the strategy reads is refused, so the setting is never silently ignored)`,
      );
    }
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Half of a surrogate pair on its own (a string cut inside a character) cannot be percent-encoded into a URL. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** A non-empty string for a URL path segment: not `.` or `..` (URL parsing resolves those away even when encoded), valid Unicode. */
export function pathSafeString(value: unknown, path: string): string {
  const text = requiredString(value, path);
  if (text === '.' || text === '..') throw invalidOption(path, `cannot be '${text}': a URL would resolve it away`);
  if (hasLoneSurrogate(text)) throw invalidOption(path, 'is not valid Unicode (half of a surrogate pair)');
  return text;
}

function constructorName(value: object): string {
  try {
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'an object';
  } catch {
    return 'an object';
  }
}

/**
 * Throws for the first part of `value` JSON cannot send as it is, so a create never fails or
 * silently loses data after its request was built: BigInt, functions, symbols, non-finite numbers,
 * invalid Dates, cycles, deep nesting, prototype keys, and objects other than plain objects, arrays
 * and Dates unless they have `toJSON` (a Map or class instance would arrive as `{}`).
 */
export function checkSendable(value: unknown, path: string): void {
  const ancestors: Array<{ node: object; path: string }> = [];
  const walk = (node: unknown, at: string): void => {
    switch (typeof node) {
      case 'undefined':
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(node)) throw invalidOption(at, `must be a finite number, got ${String(node)} (JSON would send null)`);
        return;
      case 'bigint':
        throw invalidOption(at, 'is a BigInt, which JSON cannot send (pass a number or a string)');
      case 'function':
        throw invalidOption(at, 'is a function, which cannot be sent');
      case 'symbol':
        throw invalidOption(at, 'is a symbol, which cannot be sent');
      default:
        break;
    }
    if (node === null) return;
    const object = node as object;
    const loop = ancestors.find((ancestor) => ancestor.node === object);
    if (loop) throw invalidOption(at, `refers back to ${loop.path}: a cycle cannot be sent`);
    if (ancestors.length >= MAX_DEPTH) throw invalidOption(at, `is nested more than ${MAX_DEPTH} levels deep`);
    if (object instanceof Date) {
      if (Number.isNaN(object.getTime())) throw invalidOption(at, 'is an invalid Date (JSON would send null)');
      return;
    }
    // JSON sends what `toJSON` returns (a Decimal, a Luxon date): that is the object's own business.
    if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return;
    const array = Array.isArray(object);
    if (!array && !isPlainObject(object)) {
      throw invalidOption(
        at,
        `is a ${constructorName(object)} instance, which JSON would not send as it is (pass plain objects, arrays, Dates)`,
      );
    }
    ancestors.push({ node: object, path: at });
    if (array) {
      (object as unknown[]).forEach((item, index) => walk(item, `${at}[${index}]`));
    } else {
      for (const [key, child] of Object.entries(object)) {
        if (isProtoKey(key)) throw protoKeyError(`${at}.${key}`);
        walk(child, optionPath(at, key));
      }
    }
    ancestors.pop();
  };
  walk(value, path);
}

/** Runs `check`, turning a hostile getter's or proxy trap's throw into `INVALID_OPTIONS` for `path`. */
export function readSafely<T>(path: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RunManagerError && error.type === 'INVALID_OPTIONS') throw error;
    throw new RunManagerError('INVALID_OPTIONS', `${path} could not be read: ${describeThrown(error)}`, { cause: error });
  }
}

/** Checks `getRun`/`reset` create options before any request: a plain object JSON can send ({@link checkSendable}). */
export function checkCreateOptions(value: unknown, path: string): Record<string, unknown> | undefined {
  return readSafely(path, () => {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) throw invalidOption(path, `must be a plain object, got ${describe(value)}`);
    checkSendable(value, path);
    // What was checked is what is sent: a getter must not answer differently once the request is built.
    return copyPlain(value) as Record<string, unknown>;
  });
}

/** Plain objects and arrays copied with own keys as own properties; anything else kept. */
function copyPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyPlain);
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    defineOwn(copy, key, copyPlain(child));
  }
  return copy;
}

const FILTER_DEPTH = 8;

/** Refuses filter keys the encoder refuses or that would change merging: empty, `<` or `>` (operators), lone surrogates, proto keys. */
export function checkFilterKey(key: string, parent: string): void {
  const at = optionPath(parent, key);
  if (isProtoKey(key)) throw protoKeyError(at);
  if (key === '') throw invalidOption(at, 'is an empty key: a condition must name a field');
  if (/[<>]/.test(key)) throw invalidOption(at, "cannot contain '<' or '>' in a key: servers read them as operators");
  if (hasLoneSurrogate(key)) throw invalidOption(at, 'is not a valid Unicode key (half of a surrogate pair)');
}

function checkFilterValue(value: unknown, path: string, ancestors: object[]): void {
  if (value === undefined || value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) throw invalidOption(path, 'is not valid Unicode (half of a surrogate pair)');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidOption(path, `must be a finite number, got ${String(value)}`);
    return;
  }
  if (typeof value === 'object' && ancestors.includes(value)) throw invalidOption(path, 'refers back to itself: a filter cannot be cyclic');
  if (ancestors.length > FILTER_DEPTH) throw invalidOption(path, 'is nested too deeply');
  if (Array.isArray(value)) {
    ancestors.push(value);
    value.forEach((item, index) => checkFilterValue(item, `${path}[${index}]`, ancestors));
    ancestors.pop();
    return;
  }
  if (!isPlainObject(value)) {
    throw invalidOption(
      path,
      `must be a string, number, boolean, null, array or plain object, got ${describe(value)}${value instanceof Date ? ' (a Date: pass date.toISOString())' : ''}`,
    );
  }
  ancestors.push(value);
  for (const [key, child] of Object.entries(value)) {
    checkFilterKey(key, path);
    checkFilterValue(child, optionPath(path, key), ancestors);
  }
  ancestors.pop();
}

/** Checks an optional matrix filter: scalar leaves, arrays for "any of", nested objects for dotted keys. What passes always encodes. */
export function optionalFilter(value: unknown, path: string): Record<string, unknown> | undefined {
  const filter = optionalObject(value, path);
  if (filter) checkFilterValue(filter, path, []);
  return filter;
}

const OBJECTIVES = ['MINIMUM', 'MAXIMUM', 'MARGINAL', 'OPTIMAL'];

/**
 * Checks `strategyOptions.selfAssign` of the multiplayer strategies (Epicenter v3: a user in no world
 * is put in one): `{ role?, objective?, populace? }`, or `undefined`.
 */
export function optionalSelfAssign(value: unknown, path = 'strategyOptions.selfAssign'): SelfAssignOptions | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw invalidOption(path, `must be an object { role?, objective?, populace? }, got ${describe(value)}`);
  rejectUnknownKeys(value, ['role', 'objective', 'populace'], path);
  const { role, objective, populace } = value;
  if (role !== undefined && (typeof role !== 'string' || role === ''))
    throw invalidOption(`${path}.role`, `must be a non-empty string, got ${describe(role)}`);
  if (objective !== undefined && (typeof objective !== 'string' || !OBJECTIVES.includes(objective))) {
    throw invalidOption(`${path}.objective`, `must be one of ${OBJECTIVES.join(', ')}, got ${describe(objective)}`);
  }
  if (populace !== undefined) {
    if (!Array.isArray(populace)) throw invalidOption(`${path}.populace`, `must be an array, got ${describe(populace)}`);
    populace.forEach((entry: unknown, index) => {
      const at = `${path}.populace[${index}]`;
      if (!isPlainObject(entry) || typeof entry.role !== 'string' || entry.role === '')
        throw invalidOption(at, 'must be { role, minimum?, maximum?, marginal? }');
      rejectUnknownKeys(entry, ['role', 'minimum', 'maximum', 'marginal'], at);
      for (const key of ['minimum', 'maximum', 'marginal'] as const) {
        const count = entry[key];
        if (count !== undefined && !(typeof count === 'number' && Number.isInteger(count) && count >= 0)) {
          throw invalidOption(`${at}.${key}`, `must be a non-negative integer, got ${describe(count)}`);
        }
      }
    });
  }
  return { ...value };
}
