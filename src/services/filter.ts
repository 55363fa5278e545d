/**
 * Encodings of the Run API: the matrix filter segment, the query string, `Content-Range`, PATCH
 * scope flattening and filter merging. Unlike the original library, keys and values are
 * percent-encoded, so a value containing `;`, `/`, `?`, `&` or `=` can never change which runs a filter selects.
 */
import { RunManagerError } from '../errors.js';
import type { ContentRange, FilterValue, RunFilter } from '../types.js';
import { defineOwn, isPlainObject, isSafeKey } from './values.js';

/** Longest first. */
const OPERATORS = ['<=', '>=', '!=', '<', '>'] as const;

/** Deeper data is cyclic or hostile, and recursion would exhaust the stack. */
const MAX_MERGE_DEPTH = 64;

/** `encodeURIComponent`, plus `!`, so a value starting with `!` is never read as an operator. */
function encodeComponent(value: string): string {
  try {
    return encodeURIComponent(value).replace(/!/g, '%21');
  } catch {
    // A lone surrogate (a string cut inside a character) cannot be sent.
    throw new RunManagerError('INVALID_OPTIONS', `filter text ${JSON.stringify(value.slice(0, 40))} is not valid Unicode`);
  }
}

/** Keeps the `.` of dotted paths literal; refuses `<` and `>`, which servers (and browsers) read as operators. */
function encodeKey(key: string): string {
  if (/[<>]/.test(key))
    throw new RunManagerError('INVALID_OPTIONS', `filter key ${JSON.stringify(key.slice(0, 40))} cannot contain '<' or '>'`);
  return encodeComponent(key);
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

/** A filter value matched literally: `literal('<5')` filters for the text `<5`, where a plain `'<5'` means "less than 5". */
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
 * Renders a run filter as a matrix segment: `;key{op}value` per leaf. Nested objects become dotted
 * keys, arrays repeat the key, a string starting with `<`, `>`, `<=`, `>=` or `!=` keeps that
 * operator ({@link literal} matches it as text), `undefined` is skipped and `{}` is `;` (all runs).
 */
export function toMatrix(filter: RunFilter): string {
  // A string's characters or an array's items would each become a condition of a query nobody asked for.
  if (filter !== undefined && filter !== null && !isPlainObject(filter)) {
    throw new RunManagerError('INVALID_OPTIONS', 'A run filter must be an object');
  }
  const conditions: string[] = [];
  for (const [key, value] of Object.entries(filter ?? {})) collectConditions(key, value, conditions);
  return `;${conditions.join(';')}`;
}

function queryValue(value: unknown): string {
  if (isPlainObject(value)) return encodeComponent(JSON.stringify(value));
  return encodeComponent(String(value));
}

/**
 * Renders query modifiers without the leading `?`: arrays become comma lists, plain objects JSON,
 * `undefined` values are skipped; a string argument is returned verbatim.
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
 * Parses `Content-Range` (`records 0-0/12`; the prefix is optional). An unsatisfied range
 * (`records *\/12`) gives `{ start: 0, end: -1, total: 12 }`; anything malformed `null`. Never throws.
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

/** Flattens a top-level `scope` object into dotted keys: the server does not accept a nested scope in a PATCH. */
export function flattenScope(attributes: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'scope' && isPlainObject(value)) {
      for (const [scopeKey, scopeValue] of Object.entries(value)) defineOwn(flat, `scope.${scopeKey}`, scopeValue);
    } else if (isSafeKey(key)) {
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
  // A key-by-key copy would turn a Date or class instance into `{}`.
  if (isPlainObject(value)) {
    const copy: { [key: string]: FilterValue } = {};
    for (const [key, child] of Object.entries(value)) {
      if (isSafeKey(key)) defineOwn(copy, key, cloneValue(child, depth + 1));
    }
    return copy;
  }
  return value;
}

function mergeInto(target: { [key: string]: FilterValue }, source: { [key: string]: FilterValue }, depth: number): void {
  if (depth > MAX_MERGE_DEPTH) throw tooDeep();
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || !isSafeKey(key)) continue;
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (isPlainObject(value) && isPlainObject(existing)) {
      mergeInto(existing, value, depth + 1);
    } else {
      defineOwn(target, key, cloneValue(value, depth + 1));
    }
  }
}

/**
 * Deep-merges filters into a new object: later filters win per leaf, arrays replace, and `undefined`
 * is ignored, so an absent session group cannot erase a configured one. Dotted and nested spellings
 * of one path are different keys here. Prototype keys are skipped, so no input reaches `Object.prototype`.
 */
export function mergeFilters(...filters: Array<RunFilter | undefined | null>): RunFilter {
  const merged: RunFilter = {};
  for (const filter of filters) {
    if (filter) mergeInto(merged, filter, 0);
  }
  return merged;
}
