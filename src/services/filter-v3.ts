/**
 * Epicenter v3 query encodings: a run filter in the v2 vocabulary the strategies build (matrix keys,
 * nested `scope`, `{ $eq }` literals) becomes the scope of the query path plus the `filter=` conditions,
 * and v2 query modifiers become `sort`, `first`, `max`, `var`. How the server escapes a value is not
 * known, so any value that could be read as filter grammar is refused rather than sent.
 */
import { RunManagerError } from '../errors.js';
import type { QueryModifiers, RunFilter } from '../types.js';
import { isPlainObject } from './values.js';

/** Operator prefixes a plain filter string may carry, as on v2 (longest first). */
const OPERATORS = ['<=', '>=', '!=', '<', '>'] as const;

/** Characters that group or join conditions in the v3 filter grammar. */
const GRAMMAR_CHARACTERS = /[;()[\]{}|]/;

/** A value starting with one of these could be read as (part of) an operator. */
const OPERATOR_START = /^[=!<>*~^|]/;

/** A key holding one of these would change the condition's operator or structure. */
const KEY_FORBIDDEN = /[;()[\]{}|=!<>*~^\s,]/;

/** v2 run fields that are v3 run fields (`run.*`) under the same name or a new one. */
const RUN_FIELDS: Readonly<Record<string, string>> = {
  trashed: 'run.hidden',
  saved: 'run.marked',
  'user.id': 'run.userKey',
  'scope.trackingKey': 'run.trackingKey',
  // The v3 names, so a filter written against the v3 record also works.
  hidden: 'run.hidden',
  marked: 'run.marked',
  closed: 'run.closed',
  trackingKey: 'run.trackingKey',
  created: 'run.created',
  lastModified: 'run.lastModified',
  lastOperated: 'run.lastOperated',
};

/** Prefixes the v3 grammar already understands. */
const PASS_THROUGH = ['run.', 'var.', 'meta.'] as const;

/** Where a v3 query looks: `run/{scopeBoundary}/{scopeKey}/{model}`. */
export interface V3QueryScope {
  scopeBoundary: 'GROUP' | 'WORLD';
  scopeKey: string;
  model: string;
}

/** A translated filter: the query scope and the `;`-joined conditions (empty string: none). */
export interface V3Filter extends V3QueryScope {
  filter: string;
}

/** What the translation needs from the client: its default model and the session's group. */
export interface V3FilterContext {
  model: string;
  groupKey?: string;
  groupName?: string;
}

/** A v3 query's parameters, before URL encoding. */
export interface V3QueryParams {
  sort?: string;
  first?: number;
  max?: number;
  /** Variable names, in the order the answer's `variables` arrays follow. */
  var?: string[];
  meta?: string[];
}

function invalid(message: string): RunManagerError {
  return new RunManagerError('INVALID_OPTIONS', message);
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** `{ $eq: value }`, the spelling of a value that must match as it is. */
function literalOperand(value: unknown): { literal: true; value: unknown } | { literal: false } {
  if (!isPlainObject(value)) return { literal: false };
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === '$eq' ? { literal: true, value: value.$eq } : { literal: false };
}

/** One leaf of a filter: its dotted key, the value and whether it came as a literal. */
interface Leaf {
  key: string;
  value: unknown;
  literal: boolean;
}

function collectLeaves(key: string, value: unknown, out: Leaf[], depth: number): void {
  if (depth > 64) throw invalid('A filter is nested more than 64 levels deep (or is cyclic)');
  if (value === undefined) return;
  const operand = literalOperand(value);
  if (operand.literal) {
    out.push({ key, value: operand.value, literal: true });
    return;
  }
  if (isPlainObject(value)) {
    for (const [child, childValue] of Object.entries(value)) collectLeaves(`${key}.${child}`, childValue, out, depth + 1);
    return;
  }
  out.push({ key, value, literal: false });
}

/** The v3 field of a v2 filter key: renamed run fields, `.x` variables, prefixes kept, anything else run metadata. */
export function v3FieldOf(key: string): string {
  if (Object.hasOwn(RUN_FIELDS, key)) return RUN_FIELDS[key]!;
  if (PASS_THROUGH.some((prefix) => key.startsWith(prefix) && key.length > prefix.length)) return checkField(key);
  if (key.startsWith('scope.')) {
    throw invalid(`filter key ${show(key)} has no Epicenter v3 equivalent: v3 runs are scoped by group or world only`);
  }
  // v2 matrix filters name a variable `.price`.
  if (key.startsWith('.') && key.length > 1) return checkField(`var${key}`);
  // Custom top-level run fields (an init flag such as `isInitComplete`) are run metadata on v3.
  return checkField(`meta.${key}`);
}

function checkField(field: string): string {
  if (KEY_FORBIDDEN.test(field) || field.endsWith('.') || field.includes('..')) {
    throw invalid(`filter key ${show(field)} cannot be sent in a v3 filter (it holds filter grammar)`);
  }
  return field;
}

/** A scalar as filter text, refusing what the grammar could read as structure or an operator. */
function valueText(key: string, value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'boolean') text = String(value);
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (value === null) {
    // The v3 grammar has no documented null: `=null` would be a text match, never "field unset".
    throw invalid(`filter ${show(key)}: null cannot be matched on Epicenter v3`);
  } else throw invalid(`filter ${show(key)}: a ${typeof value} cannot be matched on Epicenter v3`);
  if (text === '') throw invalid(`filter ${show(key)}: an empty value cannot be matched on Epicenter v3`);
  if (GRAMMAR_CHARACTERS.test(text) || OPERATOR_START.test(text)) {
    throw invalid(
      `filter ${show(key)}: the value ${show(text)} holds v3 filter grammar (; ( ) [ ] { } | or a leading operator) and cannot be matched safely`,
    );
  }
  return text;
}

/** `=value`, or the operator a plain string starts with (`<=5`); a literal is always `=`. */
function condition(field: string, key: string, value: unknown, literal: boolean): string {
  if (!literal && typeof value === 'string') {
    const operator = OPERATORS.find((op) => value.startsWith(op));
    if (operator) return `${field}${operator}${valueText(key, value.slice(operator.length))}`;
  }
  return `${field}=${valueText(key, value)}`;
}

/** An equality value: a literal, or a plain value with no operator prefix. */
function equalityText(key: string, leaf: { value: unknown; literal: boolean }): string {
  if (!leaf.literal && typeof leaf.value === 'string' && OPERATORS.some((op) => (leaf.value as string).startsWith(op))) {
    throw invalid(`filter ${show(key)} must be a single value, not a comparison`);
  }
  return valueText(key, leaf.value);
}

/** An array is "any of": `field|=a|b`, equality values only. */
function anyOf(field: string, key: string, values: unknown[]): string {
  if (values.length === 0) throw invalid(`filter ${show(key)}: an empty list would match nothing or everything`);
  const texts = values.map((element) => {
    const operand = literalOperand(element);
    return equalityText(key, operand.literal ? { value: operand.value, literal: true } : { value: element, literal: false });
  });
  return `${field}|=${texts.join('|')}`;
}

/** The single value of a key that names the query path (`scope.group`, `scope.worldId`, `model`). */
function singleValue(key: string, leaf: Leaf): string {
  if (Array.isArray(leaf.value)) throw invalid(`filter ${show(key)} must be a single value on Epicenter v3`);
  return equalityText(key, leaf);
}

/**
 * Translates a v2 run filter into the scope of a v3 query and its conditions. `scope.worldId` picks
 * the world (`WORLD/{worldKey}`); otherwise the session's group (`GROUP/{groupKey}`): a `scope.group`
 * is the group's name, which must be the session's. `model` picks the path's model (default: the
 * client's). Renames: `user.id` → `run.userKey`, `trashed` → `run.hidden`, `saved` → `run.marked`,
 * `scope.trackingKey` → `run.trackingKey`, `.x` → `var.x`; `run.*`, `var.*`, `meta.*` as given; any
 * other key → `meta.<key>` (custom run fields are metadata on v3). A value that could be read as
 * filter grammar, `null`, and scope keys without a v3 meaning are `INVALID_OPTIONS`; no group key
 * for a group query is `UNAUTHORIZED`.
 */
export function toV3Filter(filter: RunFilter | null | undefined, context: V3FilterContext): V3Filter {
  if (filter !== undefined && filter !== null && !isPlainObject(filter)) throw invalid('A run filter must be an object');
  const leaves: Leaf[] = [];
  for (const [key, value] of Object.entries(filter ?? {})) collectLeaves(key, value, leaves, 0);

  let worldKey: string | undefined;
  let model: string | undefined;
  const conditions: string[] = [];
  for (const leaf of leaves) {
    const { key } = leaf;
    if (key === 'scope.worldId') {
      const value = singleValue(key, leaf);
      if (worldKey !== undefined && worldKey !== value) throw invalid(`filter names two worlds (${show(worldKey)}, ${show(value)})`);
      worldKey = value;
      continue;
    }
    if (key === 'scope.group') {
      const name = singleValue(key, leaf);
      // The path takes the group's key; a name that is not the session's group would quietly query another group.
      if (context.groupName !== undefined && context.groupName !== '' && name !== context.groupName) {
        throw invalid(
          `filter scope.group ${show(name)} is not the session's group ${show(context.groupName)}: v3 queries a group by its key`,
        );
      }
      continue;
    }
    if (key === 'model') {
      const value = singleValue(key, leaf);
      if (model !== undefined && model !== value) throw invalid(`filter names two models (${show(model)}, ${show(value)})`);
      model = value;
      continue;
    }
    const field = v3FieldOf(key);
    conditions.push(Array.isArray(leaf.value) ? anyOf(field, key, leaf.value) : condition(field, key, leaf.value, leaf.literal));
  }

  const scope = worldKey !== undefined ? worldScope(worldKey) : groupScope(context);
  return { ...scope, model: model ?? context.model, filter: conditions.join(';') };
}

function worldScope(worldKey: string): { scopeBoundary: 'WORLD'; scopeKey: string } {
  return { scopeBoundary: 'WORLD', scopeKey: worldKey };
}

function groupScope(context: V3FilterContext): { scopeBoundary: 'GROUP'; scopeKey: string } {
  if (typeof context.groupKey !== 'string' || context.groupKey === '') {
    throw new RunManagerError('UNAUTHORIZED', 'A run query on Epicenter v3 needs session.groupKey (runs are scoped by group)');
  }
  return { scopeBoundary: 'GROUP', scopeKey: context.groupKey };
}

const MODIFIER_KEYS = new Set([
  'sort',
  'direction',
  'startrecord',
  'endrecord',
  'startRecord',
  'endRecord',
  'include',
  'first',
  'max',
  'meta',
]);

function recordIndex(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw invalid(`query modifier ${name} must be a whole number >= 0, got ${show(value)}`);
  }
  return number;
}

/** Names for `var=` / `meta=`: a list, or a comma-separated string as v2 sent it. */
function names(name: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? value.split(',').filter((part) => part !== '') : value;
  if (!Array.isArray(list)) throw invalid(`query modifier ${name} must be a list of names`);
  for (const element of list) {
    if (typeof element !== 'string' || element === '' || GRAMMAR_CHARACTERS.test(element) || /[=<>!*~^]/.test(element)) {
      throw invalid(`query modifier ${name}: ${show(element)} is not a name that can be sent`);
    }
  }
  return list.length > 0 ? (list as string[]) : undefined;
}

/** `created` → `run.created` (the v2 sort fields are run fields); a `+`/`-` prefix or a v3 field is kept. */
function sortField(sort: unknown, direction: unknown): string | undefined {
  if (sort === undefined) return undefined;
  if (typeof sort !== 'string' || sort === '') throw invalid(`query modifier sort must be a field name, got ${show(sort)}`);
  if (direction !== undefined && direction !== 'asc' && direction !== 'desc') {
    throw invalid(`query modifier direction must be 'asc' or 'desc', got ${show(direction)}`);
  }
  const signed = /^[+-]/.test(sort);
  const field = v3FieldOf(signed ? sort.slice(1) : sort);
  if (signed) {
    if (direction !== undefined) throw invalid('query modifiers: a signed sort field and a direction cannot be combined');
    return `${sort[0]!}${field}`;
  }
  if (direction === 'desc') return `-${field}`;
  if (direction === 'asc') return `+${field}`;
  return field;
}

/**
 * Translates v2 query modifiers: `sort` + `direction` → `sort=-run.created`; `startrecord`/`endrecord`
 * (either spelling) → `first` and `max` (`end - start + 1`); `include` → `var`. The v3 names `first`,
 * `max` and `meta` are taken as they are. Anything else is `INVALID_OPTIONS`: v3 has no such parameter.
 */
export function toV3QueryParams(modifiers: QueryModifiers | null | undefined): V3QueryParams {
  if (modifiers === undefined || modifiers === null) return {};
  if (!isPlainObject(modifiers)) throw invalid('Query modifiers must be an object');
  for (const key of Object.keys(modifiers)) {
    if (!MODIFIER_KEYS.has(key) && modifiers[key] !== undefined)
      throw invalid(`query modifier ${show(key)} has no Epicenter v3 equivalent`);
  }
  const start = recordIndex('startRecord', modifiers.startRecord ?? modifiers.startrecord);
  const end = recordIndex('endRecord', modifiers.endRecord ?? modifiers.endrecord);
  if (start !== undefined && end !== undefined && end < start)
    throw invalid(`query modifiers: endRecord ${end} is before startRecord ${start}`);
  const nativeFirst = recordIndex('first', modifiers.first);
  const nativeMax = recordIndex('max', modifiers.max);
  if ((nativeFirst !== undefined || nativeMax !== undefined) && (start !== undefined || end !== undefined)) {
    throw invalid('query modifiers: first/max and startRecord/endRecord cannot be combined');
  }
  const params: V3QueryParams = {};
  const sort = sortField(modifiers.sort, modifiers.direction);
  if (sort !== undefined) params.sort = sort;
  const first = nativeFirst ?? start ?? (end !== undefined ? 0 : undefined);
  if (first !== undefined) params.first = first;
  const max = nativeMax ?? (end !== undefined ? end - (start ?? 0) + 1 : undefined);
  if (max !== undefined) params.max = max;
  const variables = names('include', modifiers.include);
  if (variables) params.var = variables;
  const meta = names('meta', modifiers.meta);
  if (meta) params.meta = meta;
  return params;
}

/**
 * A query string by `URLSearchParams` rules (no leading `?`): an array repeats its key, `undefined`
 * and `null` are skipped, everything else is text.
 */
type QueryScalar = string | number | boolean | null | undefined;

export function v3QueryString(params: Record<string, QueryScalar | readonly QueryScalar[]>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const values: readonly QueryScalar[] = Array.isArray(value) ? (value as readonly QueryScalar[]) : [value as QueryScalar];
    for (const element of values) {
      if (element !== undefined && element !== null) search.append(key, String(element));
    }
  }
  return search.toString();
}
