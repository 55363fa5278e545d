/** Run query modifiers: sorting, paging (`startrecord`/`endrecord` in any case, or a `Range` header), `Content-Range`, `include`. */
import type { Run } from '../types.js';
import { HttpError } from './http.js';
import { getPath, isRecord, splitKey } from './record-paths.js';
import type { StoredRun } from './store.js';

/** The names listed by every comma-separated `include` parameter, or null when there is none. */
export function includeNames(query: URLSearchParams): string[] | null {
  const values = query.getAll('include');
  if (values.length === 0) return null;
  return values
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** The named variables of a run (all of them when `names` is null); unknown names are omitted. */
export function pickVariables(run: Run, names: readonly string[] | null): Record<string, unknown> {
  const variables = isRecord(run.variables) ? run.variables : {};
  if (names === null) return { ...variables };
  const picked: Record<string, unknown> = {};
  for (const name of names) {
    if (Object.hasOwn(variables, name)) picked[name] = variables[name];
  }
  return picked;
}

/** A run as an API response: like the Run API, `variables` holds only the names asked with `include`, else null. */
export function presentRun(run: Run, include: readonly string[] | null): Run {
  return { ...run, variables: include === null ? null : pickVariables(run, include) };
}

type SortKey = readonly [rank: number, value: number | string];

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

interface Keyed {
  stored: StoredRun;
  key: SortKey;
}

/** The `limit` smallest items in order, in one pass, so a one-record page does not sort the whole project. */
function smallest(items: readonly Keyed[], limit: number, compare: (a: Keyed, b: Keyed) => number): Keyed[] {
  const best: Keyed[] = [];
  for (const item of items) {
    if (best.length === limit && compare(item, best[limit - 1] as Keyed) >= 0) continue;
    let low = 0;
    let high = best.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compare(best[middle] as Keyed, item) <= 0) low = middle + 1;
      else high = middle;
    }
    best.splice(low, 0, item);
    if (best.length > limit) best.pop();
  }
  return best;
}

/**
 * Orders matches by `sort` (missing values first, then numbers and booleans, then strings); ties
 * keep creation order, so `desc` is the exact reverse. Only the first `limit` are fully ordered.
 */
export function sortRuns(matches: readonly StoredRun[], query: URLSearchParams, limit = Number.POSITIVE_INFINITY): StoredRun[] {
  const direction = (query.get('direction') ?? 'asc').toLowerCase();
  if (direction !== 'asc' && direction !== 'desc') throw new HttpError(400, `direction must be asc or desc, not "${direction}"`);
  const field = query.get('sort');
  const sign = direction === 'desc' ? -1 : 1;
  const segments = field === null || field === '' ? null : splitKey(field);
  const none = sortKey(undefined);
  const keyed = matches.map((stored) => ({ stored, key: segments ? sortKey(getPath(stored.run, segments)) : none }));
  const compare = (a: Keyed, b: Keyed) => sign * (compareKeys(a.key, b.key) || a.stored.seq - b.stored.seq);
  const ordered = limit < keyed.length / 4 ? smallest(keyed, limit, compare) : keyed.sort(compare);
  return ordered.map(({ stored }) => stored);
}

/** An inclusive page of record indexes (`end` may be past the last match). */
export interface Page {
  start: number;
  end: number;
}

function recordIndex(text: string, name: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new HttpError(400, `${name} must be a non-negative integer, not "${text.slice(0, 50)}"`);
  return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
}

const RANGE = /^\s*records\s*[=\s]\s*(\d+)\s*-\s*(\d+)?\s*$/i;

/** The requested page: `startrecord`/`endrecord`, else a `Range: records s-e` header, else all; bad bounds are 400. */
export function requestedPage(query: URLSearchParams, rangeHeader: string | undefined): Page {
  let start: number | undefined;
  let end: number | undefined;
  for (const [key, value] of query) {
    const lower = key.toLowerCase();
    if (lower === 'startrecord') start = recordIndex(value, key);
    else if (lower === 'endrecord') end = recordIndex(value, key);
  }
  if (start === undefined && end === undefined && rangeHeader !== undefined) {
    const match = RANGE.exec(rangeHeader);
    if (!match) throw new HttpError(400, `Range must look like "records 0-9", not "${rangeHeader.slice(0, 50)}"`);
    start = recordIndex(match[1] as string, 'Range start');
    if (match[2] !== undefined) end = recordIndex(match[2], 'Range end');
  }
  const page = { start: start ?? 0, end: end ?? Number.MAX_SAFE_INTEGER };
  if (page.end < page.start) throw new HttpError(400, `record range ${page.start}-${page.end} is reversed`);
  return page;
}

/**
 * Cuts the page out of the sorted matches and renders `Content-Range`: `records s-e/total`,
 * `records 0-0/0` for no matches, `records *\/total` when the page starts past the last match.
 */
export function applyPage<T>(sorted: readonly T[], total: number, page: Page): { items: T[]; contentRange: string } {
  if (total === 0) return { items: [], contentRange: 'records 0-0/0' };
  if (page.start >= total) return { items: [], contentRange: `records */${total}` };
  const end = Math.min(page.end, total - 1);
  return { items: sorted.slice(page.start, end + 1), contentRange: `records ${page.start}-${end}/${total}` };
}
