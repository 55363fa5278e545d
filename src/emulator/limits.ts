/**
 * Bounds on what one request may store in a run or world, checked before anything changes: a
 * record nested thousands of levels deep overflows the stack of every later `JSON.stringify`
 * and `structuredClone` (the data file, responses, `emulator.runs()`), and a huge one slows
 * every request that reads it.
 */
import { HttpError } from './http.js';

/** Deepest nesting of a stored record, the record itself being level 1 (`run.scope.a` is 3). */
export const MAX_STORED_DEPTH = 32;

/** Most keys (object keys and array elements, at every level) one request may store in one record. */
export const MAX_STORED_KEYS = 100_000;

/** Long dotted keys are quoted in messages only this far. */
const QUOTE_LIMIT = 60;

function quote(key: string): string {
  return JSON.stringify(key.length > QUOTE_LIMIT ? `${key.slice(0, QUOTE_LIMIT)}…` : key);
}

/**
 * Accounts what one request stores in one record and refuses it (400 by default) as soon as it
 * would nest deeper than {@link MAX_STORED_DEPTH} or add more than {@link MAX_STORED_KEYS} keys.
 * Walks iteratively, so a hostile depth cannot overflow the stack here either.
 *
 * @example
 * ```ts
 * const budget = new StoreBudget('the update');
 * budget.path('scope.trackingKey', 2);
 * budget.value(body['scope.trackingKey'], 2);
 * ```
 */
export class StoreBudget {
  private keys = 0;

  constructor(
    private readonly what: string,
    private readonly refuse: (message: string) => Error = (message) => new HttpError(400, message),
  ) {}

  /** A dotted key of `segments` parts: it creates that many levels of nesting and keys. */
  path(key: string, segments: number): void {
    if (segments > MAX_STORED_DEPTH) {
      throw this.refuse(
        `${this.what}: field path ${quote(key)} has ${segments} segments; stored values nest at most ${MAX_STORED_DEPTH} levels`,
      );
    }
    this.count(segments);
  }

  /**
   * A value stored inside `level` enclosing objects (0 for a whole record, 1 for a field of
   * it); its own nesting adds to that.
   */
  value(value: unknown, level: number): void {
    const pending: Array<[unknown, number]> = [[value, level + 1]];
    while (pending.length > 0) {
      const [current, depth] = pending.pop() as [unknown, number];
      if (current === null || typeof current !== 'object') continue;
      if (depth > MAX_STORED_DEPTH) throw this.refuse(`${this.what} nests deeper than ${MAX_STORED_DEPTH} levels`);
      const children = Array.isArray(current) ? current : Object.values(current);
      this.count(children.length);
      for (const child of children) pending.push([child, depth + 1]);
    }
  }

  private count(added: number): void {
    this.keys += added;
    if (this.keys > MAX_STORED_KEYS) throw this.refuse(`${this.what} holds more than ${MAX_STORED_KEYS} keys`);
  }
}
