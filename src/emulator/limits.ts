/**
 * Bounds on what one request may store, checked before anything changes: a record nested thousands
 * deep overflows every later `JSON.stringify` and `structuredClone`, and a huge one slows every read.
 */
import { HttpError } from './http.js';

/** The record itself is level 1 (`run.scope.a` is 3). */
export const MAX_STORED_DEPTH = 32;

/** Counted at every level, object keys and array elements alike, per request and record. */
export const MAX_STORED_KEYS = 100_000;

const QUOTE_LIMIT = 60;

function quote(key: string): string {
  return JSON.stringify(key.length > QUOTE_LIMIT ? `${key.slice(0, QUOTE_LIMIT)}…` : key);
}

/** Counts what one request stores in one record and refuses it past the bounds; iterative, so hostile depth cannot overflow here either. */
export class StoreBudget {
  private keys = 0;

  constructor(
    private readonly what: string,
    private readonly refuse: (message: string) => Error = (message) => new HttpError(400, message),
  ) {}

  /** A dotted key of `segments` parts creates that many levels and keys. */
  path(key: string, segments: number): void {
    if (segments > MAX_STORED_DEPTH) {
      throw this.refuse(
        `${this.what}: field path ${quote(key)} has ${segments} segments; stored values nest at most ${MAX_STORED_DEPTH} levels`,
      );
    }
    this.count(segments);
  }

  /** A value inside `level` enclosing objects (0 for a whole record); its own nesting adds to that. */
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
