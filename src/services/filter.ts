/**
 * Encodings of the Run API (spec §2): the matrix filter path segment, the query string, the
 * `Content-Range` header, PATCH-body scope flattening and filter merging.
 *
 * Unlike the original library, keys and values are percent-encoded, so a value containing `;`,
 * `/`, `?`, `#`, `&` or `=` (or starting with `!`) can never change which runs a filter selects.
 * The emulator (and any server that percent-decodes path segments) reads them back verbatim.
 */
import { RunManagerError } from '../errors.js';
import type { ContentRange, FilterValue, RunFilter } from '../types.js';

/** Operator prefixes kept literal in a matrix condition, longest first (spec §2.1). */
const OPERATORS = ['<=', '>=', '!=', '<', '>'] as const;

/** Keys never copied by a merge: assigning them would change a prototype, or reach `Object.prototype`. */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deeper than this, a merge refuses: the data is cyclic or hostile, and recursion would exhaust the stack. */
const MAX_MERGE_DEPTH = 64;

/** An own, enumerable data property: never a setter such as `__proto__`. */
function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Percent-encodes a matrix or query component: `encodeURIComponent`, plus `!` (so a value starting
 * with `!` is never read as an operator).
 */
function encodeComponent(value: string): string {
  try {
    return encodeURIComponent(value).replace(/!/g, '%21');
  } catch {
    // A lone surrogate (a string cut inside a character) cannot be sent.
    throw new RunManagerError('INVALID_OPTIONS', `filter text ${JSON.stringify(value.slice(0, 40))} is not valid Unicode`);
  }
}

/**
 * Percent-encodes a matrix key, keeping the `.` of dotted paths literal (`.` is never encoded anyway).
 * `<` and `>` are refused: servers (and browsers, which encode them in paths) read them as operators.
 */
function encodeKey(key: string): string {
  if (/[<>]/.test(key))
    throw new RunManagerError('INVALID_OPTIONS', `filter key ${JSON.stringify(key.slice(0, 40))} cannot contain '<' or '>'`);
  return encodeComponent(key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function matrixCondition(key: string, value: string | number | boolean | null): string {
  if (value === null) return `${encodeKey(key)}=null`;
  const text = String(value);
  if (typeof value === 'string') {
    const operator = OPERATORS.find((op) => text.startsWith(op));
    if (operator) return `${encodeKey(key)}${operator}${encodeComponent(text.slice(operator.length))}`;
  }
  return `${encodeKey(key)}=${encodeComponent(text)}`;
}

/** `{ $eq: value }`: a value matched literally, never read as an operator. */
function literalValue(value: unknown): { matched: true; value: string | number | boolean | null } | { matched: false } {
  if (!isPlainObject(value)) return { matched: false };
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== '$eq') return { matched: false };
  const operand = value.$eq;
  if (operand === null || typeof operand === 'string' || typeof operand === 'number' || typeof operand === 'boolean') {
    return { matched: true, value: operand };
  }
  return { matched: false };
}

/**
 * A filter value matched literally: `literal('<5')` filters for the text `<5`, where a plain `'<5'`
 * means "less than 5". Values that cannot be read as an operator are returned as they are.
 *
 * @example
 * ```ts
 * toMatrix({ 'user.id': literal('!=u2') }); // ';user.id=%21%3Du2'
 * literal('u1');                             // 'u1'
 * ```
 */
export function literal<T extends string | undefined>(value: T): T | { $eq: string } {
  return typeof value === 'string' && OPERATORS.some((op) => value.startsWith(op)) ? { $eq: value } : value;
}

function collectConditions(key: string, value: FilterValue, out: string[]): void {
  if (value === undefined) return;
  const exact = literalValue(value);
  if (exact.matched) {
    out.push(exact.value === null ? `${encodeKey(key)}=null` : `${encodeKey(key)}=${encodeComponent(String(exact.value))}`);
    return;
  }
  if (Array.isArray(value)) {
    for (const element of value) collectConditions(key, element, out);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [childKey, childValue] of Object.entries(value)) {
      collectConditions(`${key}.${childKey}`, childValue, out);
    }
    return;
  }
  out.push(matrixCondition(key, value));
}

/**
 * Renders a run filter as a matrix path segment (spec §2.1): a leading `;`, then one
 * `key{op}value` condition per leaf, `;`-joined, keys in insertion order. Nested objects become
 * dotted keys, arrays repeat the key (one condition per element), a string starting with `<`, `>`,
 * `<=`, `>=` or `!=` keeps that operator (`{ $eq: '<5' }` or {@link literal} matches such text
 * literally), `null` is the literal `null`, `undefined` values are
 * skipped and an empty filter is `;` (all runs). Keys and operands are percent-encoded (`.` stays
 * literal), so hostile values cannot add conditions.
 *
 * @example
 * ```ts
 * toMatrix({ scope: { trackingKey: 'foo' }, saved: true, id: [1, 2] });
 * // ';scope.trackingKey=foo;saved=true;id=1;id=2'
 * toMatrix({ a: '<1', c: '!=1' }); // ';a<1;c!=1'
 * toMatrix({ 'scope.trackingKey': 'x;user.id=u2' }); // ';scope.trackingKey=x%3Buser.id%3Du2'
 * toMatrix({}); // ';'
 * ```
 */
export function toMatrix(filter: RunFilter): string {
  const conditions: string[] = [];
  for (const [key, value] of Object.entries(filter ?? {})) collectConditions(key, value, conditions);
  return `;${conditions.join(';')}`;
}

function queryValue(value: unknown): string {
  if (isPlainObject(value)) return encodeComponent(JSON.stringify(value));
  return encodeComponent(String(value));
}

/**
 * Renders query modifiers as a query string without the leading `?` (spec §2.2): `k=v` pairs in
 * insertion order joined by `&`; arrays become comma-separated lists (each element encoded, the
 * commas literal); plain-object values are JSON-stringified and then encoded; `undefined` values
 * (and `undefined` array elements) are skipped. A string argument is returned verbatim.
 *
 * @example
 * ```ts
 * toQueryString({ include: ['price', 'sales'] }); // 'include=price,sales'
 * toQueryString({ sort: 'created', direction: 'desc', startrecord: 0, endrecord: 0 });
 * // 'sort=created&direction=desc&startrecord=0&endrecord=0'
 * toQueryString('v1'); // 'v1'
 * ```
 */
export function toQueryString(params: Record<string, unknown> | string | undefined | null): string {
  if (params === undefined || params === null) return '';
  if (typeof params === 'string') return params;
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const rendered = Array.isArray(value)
      ? value
          .filter((element) => element !== undefined)
          .map(queryValue)
          .join(',')
      : queryValue(value);
    pairs.push(`${encodeComponent(key)}=${rendered}`);
  }
  return pairs.join('&');
}

const CONTENT_RANGE = /^\s*(?:records\s+)?(?:(\d+)-(\d+)|\*)\/(\d+)\s*$/i;

/**
 * Parses a `Content-Range` header such as `records 0-0/12` (spec §2.3). The `records ` prefix is
 * optional; an unsatisfied range (`records *\/12`, no records in range) gives `{ start: 0, end: -1, total: 12 }`. A missing header,
 * an unknown total (`0-0/*`) or anything else malformed gives `null`; it never throws.
 *
 * @example
 * ```ts
 * parseContentRange('records 0-0/12'); // { start: 0, end: 0, total: 12 }
 * parseContentRange('0-9/100');        // { start: 0, end: 9, total: 100 }
 * parseContentRange(null);             // null
 * ```
 */
export function parseContentRange(header: string | null | undefined): ContentRange | null {
  if (typeof header !== 'string') return null;
  const match = CONTENT_RANGE.exec(header);
  if (!match) return null;
  const total = Number(match[3]);
  if (!Number.isSafeInteger(total)) return null;
  if (match[1] === undefined || match[2] === undefined) return { start: 0, end: -1, total };
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null;
  return { start, end, total };
}

/**
 * Flattens a top-level plain-object `scope` into dotted keys for a PATCH body (spec §3.4); the
 * server does not accept a nested scope there. Other keys are copied as they are, in order.
 *
 * @example
 * ```ts
 * flattenScope({ completed: true, scope: { trackingKey: 'foo' } });
 * // { completed: true, 'scope.trackingKey': 'foo' }
 * ```
 */
export function flattenScope(attributes: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'scope' && isPlainObject(value)) {
      for (const [scopeKey, scopeValue] of Object.entries(value)) defineOwn(flat, `scope.${scopeKey}`, scopeValue);
    } else if (!UNSAFE_KEYS.has(key)) {
      defineOwn(flat, key, value);
    }
  }
  return flat;
}

function tooDeep(): RunManagerError {
  return new RunManagerError('INVALID_OPTIONS', `A merged object is nested more than ${MAX_MERGE_DEPTH} levels deep (or is cyclic)`);
}

function cloneValue(value: FilterValue, depth: number): FilterValue {
  if (depth > MAX_MERGE_DEPTH) throw tooDeep();
  if (Array.isArray(value)) return value.map((item) => cloneValue(item, depth + 1));
  // Only plain objects are copied key by key; a Date or class instance stays itself (a key-by-key
  // copy would turn it into `{}`).
  if (isPlainObject(value)) {
    const copy: { [key: string]: FilterValue } = {};
    for (const [key, child] of Object.entries(value)) {
      if (!UNSAFE_KEYS.has(key)) defineOwn(copy, key, cloneValue(child as FilterValue, depth + 1));
    }
    return copy;
  }
  return value;
}

function mergeInto(target: { [key: string]: FilterValue }, source: { [key: string]: FilterValue }, depth: number): void {
  if (depth > MAX_MERGE_DEPTH) throw tooDeep();
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || UNSAFE_KEYS.has(key)) continue;
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (isPlainObject(value) && isPlainObject(existing)) {
      mergeInto(existing as { [key: string]: FilterValue }, value as { [key: string]: FilterValue }, depth + 1);
    } else {
      defineOwn(target, key, cloneValue(value, depth + 1));
    }
  }
}

/**
 * Deep-merges filters into a new object (the inputs are not changed): later filters win per leaf,
 * nested objects merge, arrays replace, and `undefined` values (and `undefined`/`null` filters) are
 * ignored, so an absent session group cannot erase a configured one. Keys keep the position of
 * their first appearance. Dotted keys (`'scope.group'`) and nested objects (`scope: { group }`)
 * are different keys here: spell one path one way. Keys `__proto__`, `constructor` and `prototype`
 * are skipped (options validation refuses them earlier), and every key is defined as an own
 * property, so no input can reach `Object.prototype`.
 *
 * @example
 * ```ts
 * mergeFilters({ scope: { group: 'g1', custom: 'x' } }, { scope: { trackingKey: 'tk' }, trashed: false });
 * // { scope: { group: 'g1', custom: 'x', trackingKey: 'tk' }, trashed: false }
 * ```
 */
export function mergeFilters(...filters: Array<RunFilter | undefined | null>): RunFilter {
  const merged: RunFilter = {};
  for (const filter of filters) {
    if (filter) mergeInto(merged, filter, 0);
  }
  return merged;
}
