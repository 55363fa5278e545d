/**
 * The request log: answered API requests, oldest first, capped (oldest dropped), with a helper
 * to wait until a number of requests have been answered.
 */
import type { RequestLogEntry } from './types.js';

interface Waiter {
  count: number;
  resolve: (entries: RequestLogEntry[]) => void;
}

/**
 * A capped log of frozen entries.
 *
 * @example
 * ```ts
 * const log = new RequestLog(10_000);
 * await log.waitFor(3, 2000);
 * ```
 */
export class RequestLog {
  /** The entries (a live array; never replaced, so a reference stays current). */
  readonly entries: RequestLogEntry[] = [];
  /** Entries added since start (not reset by `clear`). */
  total = 0;
  private sinceClear = 0;
  private waiters: Waiter[] = [];

  constructor(private readonly limit: number) {}

  add(entry: RequestLogEntry): void {
    this.entries.push(Object.freeze(entry));
    if (this.entries.length > this.limit) this.entries.shift();
    this.total += 1;
    this.sinceClear += 1;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => waiter.count <= this.sinceClear);
    this.waiters = this.waiters.filter((waiter) => waiter.count > this.sinceClear);
    for (const waiter of ready) waiter.resolve([...this.entries]);
  }

  clear(): void {
    this.entries.length = 0;
    this.sinceClear = 0;
  }

  /** Resolves with a copy of the entries once `count` requests were logged since the last clear; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 5000): Promise<RequestLogEntry[]> {
    if (this.sinceClear >= count) return Promise.resolve([...this.entries]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        count,
        resolve: (entries) => {
          clearTimeout(timer);
          resolve(entries);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(new Error(`waited ${timeoutMs} ms for ${count} requests; ${this.sinceClear} were answered`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}
