/** The request log: answered API requests, oldest first, capped by count and by bytes (oldest dropped). */
import type { RequestLogEntry } from './types.js';

interface Waiter {
  count: number;
  resolve: (entries: RequestLogEntry[]) => void;
}

/** Frozen entries, at most `limit` of them and `byteLimit` bytes (each as the UTF-8 length of its JSON). */
export class RequestLog {
  /** A live array, never replaced, so a reference stays current. */
  readonly entries: RequestLogEntry[] = [];
  /** Entries added since start (not reset by `clear`). */
  total = 0;
  bytes = 0;
  private readonly sizes: number[] = [];
  private sinceClear = 0;
  private waiters: Waiter[] = [];

  constructor(
    private readonly limit: number,
    private readonly byteLimit = Number.POSITIVE_INFINITY,
  ) {}

  add(entry: RequestLogEntry): void {
    const size = Buffer.byteLength(JSON.stringify(entry));
    this.entries.push(Object.freeze(entry));
    this.sizes.push(size);
    this.bytes += size;
    let drop = 0;
    let dropped = 0;
    while (drop < this.entries.length && (this.entries.length - drop > this.limit || this.bytes - dropped > this.byteLimit)) {
      dropped += this.sizes[drop] as number;
      drop += 1;
    }
    if (drop > 0) {
      this.entries.splice(0, drop);
      this.sizes.splice(0, drop);
      this.bytes -= dropped;
    }
    this.total += 1;
    this.sinceClear += 1;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => waiter.count <= this.sinceClear);
    this.waiters = this.waiters.filter((waiter) => waiter.count > this.sinceClear);
    for (const waiter of ready) waiter.resolve([...this.entries]);
  }

  clear(): void {
    this.entries.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
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
