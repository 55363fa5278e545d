/**
 * The v3 run query language: `filter` (conditions joined by `;`, `(…)` AND and `[…]` OR groups),
 * `sort` (`-run.created;+var.score`) and `first`/`max` paging. Fields are `run.<attr>` (of the v3
 * view), `var.<name>` and `meta.<key>`.
 */
import { HttpError } from './http.js';
import { getPath } from './record-paths.js';
import { V3_CODES } from './v3-context.js';
import { variableValue } from './v3-views.js';

/** What a condition is evaluated against: the run's v3 view (without variables; may be built on first read), its variables and metadata. */
export interface FilterSubject {
  readonly view: Record<string, unknown>;
  variables: unknown;
  metaData: Record<string, unknown>;
}

type Getter = (subject: FilterSubject) => unknown;
type Predicate = (subject: FilterSubject) => boolean;

function malformed(message: string): HttpError {
  return new HttpError(400, message, undefined, V3_CODES.badRequest);
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** `run.*` attributes besides the view's own top-level fields. */
const RUN_ALIASES: Readonly<Record<string, readonly string[]>> = {
  userKey: ['scope', 'userKey'],
  scopeBoundary: ['scope', 'scopeBoundary'],
  scopeKey: ['scope', 'scopeKey'],
  groupName: ['address', 'groupName'],
  worldKey: ['address', 'worldKey'],
};

const RUN_FIELDS = new Set([
  'runKey',
  'scope',
  'permit',
  'trackingKey',
  'marked',
  'hidden',
  'closed',
  'created',
  'lastModified',
  'lastOperated',
  'modelFile',
  'morphology',
  'ephemeral',
  'allowChannel',
  'modelContext',
  'executionContext',
  'address',
  'user',
]);

/** The value a field names; an unknown prefix or `run.` attribute is 400, so a typo never silently matches nothing. */
export function fieldGetter(field: string): Getter {
  const dot = field.indexOf('.');
  const prefix = dot < 0 ? field : field.slice(0, dot);
  const rest = dot < 0 ? '' : field.slice(dot + 1);
  const segments = rest.split('.');
  if (rest === '' || segments.some((part) => part === '' || FORBIDDEN.has(part))) {
    throw malformed(`invalid field "${field.slice(0, 200)}"`);
  }
  switch (prefix) {
    case 'run': {
      const [first, ...more] = segments as [string, ...string[]];
      const path = Object.hasOwn(RUN_ALIASES, first) ? [...(RUN_ALIASES[first] as string[]), ...more] : segments;
      if (!RUN_FIELDS.has(path[0] as string)) throw malformed(`unknown run field "run.${first.slice(0, 200)}"`);
      return (subject) => getPath(subject.view, path);
    }
    case 'var':
      return (subject) => variableValue(subject.variables, rest);
    case 'meta':
      return (subject) => getPath(subject.metaData, segments);
    default:
      throw malformed(`field "${field.slice(0, 200)}" must start with run., var. or meta.`);
  }
}

const NUMBER = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMBER.test(value)) return Number(value);
  return undefined;
}

function dateOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : undefined;
}

/** `=`: `null` matches absent, booleans and numbers compare as such, text case-insensitively; a list matches when an element does. */
function equals(value: unknown, operand: string): boolean {
  if (Array.isArray(value)) return value.some((element) => !Array.isArray(element) && equals(element, operand));
  const lower = operand.toLowerCase();
  if (value === null || value === undefined) return lower === 'null';
  if (typeof value === 'boolean') return lower === String(value);
  if (typeof value === 'number') return numberOf(operand) === value;
  if (typeof value === 'string') return value.toLowerCase() === lower;
  return false;
}

function like(operand: string): (value: unknown) => boolean {
  const source = operand
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const pattern = new RegExp(`^${source}$`, 'is');
  return (value) => (typeof value === 'string' || typeof value === 'number' ? pattern.test(String(value)) : false);
}

/** Sign of `value - operand` for `<`-style operators: numbers, else ISO dates; null when they do not compare. */
function ordering(operand: string): (value: unknown) => number | null {
  const number = numberOf(operand);
  if (number !== undefined) {
    return (value) => {
      const left = numberOf(value);
      return left === undefined ? null : Math.sign(left - number);
    };
  }
  const date = dateOf(operand);
  if (date !== undefined) {
    return (value) => {
      const left = dateOf(value);
      return left === undefined ? null : Math.sign(left - date);
    };
  }
  throw malformed(`"${operand.slice(0, 200)}" is neither a number nor an ISO date, so it cannot be compared with < or >`);
}

type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | '*=' | '|=' | '~=' | '^=';
const OPERATOR_START = new Set(['=', '!', '<', '>', '*', '|', '~', '^']);

function compare(get: Getter, operator: Operator, operand: string): Predicate {
  switch (operator) {
    case '=':
      return (subject) => equals(get(subject), operand);
    case '!=':
      return (subject) => !equals(get(subject), operand);
    case '|=': {
      const operands = operand.split('|');
      return (subject) => {
        const value = get(subject);
        return operands.some((one) => equals(value, one));
      };
    }
    case '*=': {
      const lower = operand.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw malformed(`*= takes true or false, not "${operand.slice(0, 200)}"`);
      const wanted = lower === 'true';
      return (subject) => {
        const value = get(subject);
        return (value !== undefined && value !== null) === wanted;
      };
    }
    case '~=':
    case '^=': {
      const test = like(operand);
      const wanted = operator === '~=';
      return (subject) => test(get(subject)) === wanted;
    }
    default: {
      const sign = ordering(operand);
      const accept = { '<': (s: number) => s < 0, '<=': (s: number) => s <= 0, '>': (s: number) => s > 0, '>=': (s: number) => s >= 0 }[
        operator
      ];
      return (subject) => {
        const result = sign(get(subject));
        return result !== null && accept(result);
      };
    }
  }
}

/** A parsed condition; `userKeys` when it pins `run.userKey` to some values, which the store can look up by index. */
interface Condition {
  predicate: Predicate;
  userKeys?: string[];
}

const USER_KEY_FIELDS = new Set(['run.userKey', 'run.scope.userKey']);

function parseCondition(text: string): Condition {
  let index = 0;
  while (index < text.length && !OPERATOR_START.has(text[index] as string)) index += 1;
  if (index === text.length) throw malformed(`filter condition "${text.slice(0, 200)}" has no operator`);
  const field = text.slice(0, index).trim();
  if (field === '') throw malformed(`filter condition "${text.slice(0, 200)}" has no field`);
  const first = text[index] as string;
  const twoChars = text[index + 1] === '=' && first !== '=';
  if (!twoChars && first !== '=' && first !== '<' && first !== '>') {
    throw malformed(`filter condition "${text.slice(0, 200)}" has an unknown operator`);
  }
  const operator = (twoChars ? `${first}=` : first) as Operator;
  const operand = text.slice(index + operator.length);
  const predicate = compare(fieldGetter(field), operator, operand);
  const userKeys = operator === '=' ? [operand] : operator === '|=' ? operand.split('|') : undefined;
  // `null` matches runs without a user, which no user index bucket holds.
  if (!USER_KEY_FIELDS.has(field) || userKeys === undefined || userKeys.some((key) => key.toLowerCase() === 'null')) return { predicate };
  return { predicate, userKeys };
}

const CLOSERS: Readonly<Record<string, string>> = { '(': ')', '[': ']' };

/**
 * Parses conditions from `position` up to `close` (or the end), joined by `;`. A group starts
 * where a condition would; inside one, its closing bracket also ends a condition.
 */
function parseSequence(text: string, start: number, close: string | null, any: boolean, userKeys?: string[][]): [Predicate, number] {
  const parts: Predicate[] = [];
  let position = start;
  for (;;) {
    const char = text[position];
    if (char === '(' || char === '[') {
      const [group, next] = parseSequence(text, position + 1, CLOSERS[char] as string, char === '[');
      parts.push(group);
      position = next;
    } else if (char === '{') {
      throw malformed('{…} filter groups are not supported by the emulator');
    } else {
      let end = position;
      while (end < text.length && text[end] !== ';' && text[end] !== close) end += 1;
      const condition = text.slice(position, end);
      if (condition.trim() !== '') {
        const parsed = parseCondition(condition);
        parts.push(parsed.predicate);
        if (parsed.userKeys) userKeys?.push(parsed.userKeys);
      }
      position = end;
    }
    if (position >= text.length) {
      if (close !== null) throw malformed(`filter group is missing its "${close}"`);
      break;
    }
    if (text[position] === ';') {
      position += 1;
      continue;
    }
    if (text[position] === close) {
      position += 1;
      break;
    }
    throw malformed(`unexpected "${String(text[position])}" in filter at ${position}`);
  }
  const predicate: Predicate =
    parts.length === 0
      ? () => true
      : any
        ? (subject) => parts.some((part) => part(subject))
        : (subject) => parts.every((part) => part(subject));
  return [predicate, position];
}

/** A compiled `filter`: the predicate, and the user keys one of its top-level conditions requires (null: any user). */
export interface CompiledV3Filter {
  matches: Predicate;
  userKeys: string[] | null;
}

/** Every `filter` parameter, AND-ed; matches all without one. Malformed filters are 400. */
export function parseFilter(filters: readonly string[]): CompiledV3Filter {
  const pinned: string[][] = [];
  const predicates = filters.map((text) => parseSequence(text, 0, null, false, pinned)[0]);
  return { matches: (subject) => predicates.every((predicate) => predicate(subject)), userKeys: pinned[0] ?? null };
}

type SortKey = readonly [rank: number, value: number | string];

/** Missing values first, then numbers and booleans, then text. */
function sortKey(value: unknown): SortKey {
  if (typeof value === 'number') return [1, value];
  if (typeof value === 'boolean') return [1, value ? 1 : 0];
  if (typeof value === 'string') return [2, value];
  return [0, 0];
}

function compareKeys(left: SortKey, right: SortKey): number {
  if (left[0] !== right[0]) return left[0] - right[0];
  return left[1] < right[1] ? -1 : left[1] > right[1] ? 1 : 0;
}

/** A run to sort: its subject and its creation sequence, the tie-breaker. */
export interface Sortable {
  subject: FilterSubject;
  seq: number;
}

/**
 * Orders by every `sort` field (`-` descending, `+` or nothing ascending; a `+` that arrived
 * unencoded reads as a space). Ties keep creation order, reversed when the first field is descending,
 * so `-run.created` is newest first even among runs created in the same millisecond.
 */
export function sortSubjects<T extends Sortable>(items: T[], sorts: readonly string[]): T[] {
  const fields = sorts
    .flatMap((text) => text.split(';'))
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const descending = part.startsWith('-');
      const name = part.startsWith('-') || part.startsWith('+') ? part.slice(1).trim() : part;
      return { get: fieldGetter(name), sign: descending ? -1 : 1 };
    });
  const tieSign = fields[0]?.sign ?? 1;
  const keyed = items.map((item) => ({ item, keys: fields.map((field) => sortKey(field.get(item.subject))) }));
  keyed.sort((a, b) => {
    for (let index = 0; index < fields.length; index += 1) {
      const order = compareKeys(a.keys[index] as SortKey, b.keys[index] as SortKey);
      if (order !== 0) return order * (fields[index] as { sign: number }).sign;
    }
    return tieSign * (a.item.seq - b.item.seq);
  });
  return keyed.map(({ item }) => item);
}

/** The page size v3 never exceeds. */
export const MAX_PAGE = 200;

function index(text: string | null, name: string, fallback: number): number {
  if (text === null || text.trim() === '') return fallback;
  if (!/^\s*\d+\s*$/.test(text)) throw malformed(`${name} must be a non-negative integer, not "${text.slice(0, 50)}"`);
  return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
}

/** `first` (0-based, default 0) and `max` (default and at most {@link MAX_PAGE}). */
export function requestedPage(query: URLSearchParams): { first: number; max: number } {
  return { first: index(query.get('first'), 'first', 0), max: Math.min(index(query.get('max'), 'max', MAX_PAGE), MAX_PAGE) };
}
