/**
 * A tiny seeded PRNG for the soak: mulberry32, plus helpers to derive independent streams
 * (one per user and purpose) from the run's seed, so that a user's fault schedule does not
 * depend on how other users' requests interleave.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a 32-bit state PRNG, fast and good enough to schedule faults.
 *
 * @example
 * ```ts
 * const random = mulberry32(1);
 * random(); // 0.6270739405881613, always, for seed 1
 * ```
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * FNV-1a over the parts' text: a 32-bit hash, used to derive stream seeds and fingerprints.
 *
 * @example
 * ```ts
 * hash32('seed', 1, 'user', 7); // the same number on every run
 * ```
 */
export function hash32(...parts: Array<string | number>): number {
  let hash = 0x811c9dc5;
  for (const char of parts.join('\u0000')) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * An independent stream for one purpose of one user: `stream(seed, 'faults', 12)`.
 *
 * @example
 * ```ts
 * const faults = stream(1, 'faults', 0);
 * const think = stream(1, 'think', 0); // unrelated to `faults`
 * ```
 */
export function stream(seed: number, purpose: string, index: number): Random {
  return mulberry32(hash32('soak', seed, purpose, index));
}

/**
 * A whole number in [0, n).
 *
 * @example
 * ```ts
 * pickIndex(random, 6); // 0..5
 * ```
 */
export function pickIndex(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/**
 * One of the items, uniformly.
 *
 * @example
 * ```ts
 * pick(random, ['a', 'b']);
 * ```
 */
export function pick<T>(random: Random, items: readonly T[]): T {
  return items[pickIndex(random, items.length)] as T;
}

/**
 * One key of a table of weights, with probability proportional to its weight.
 *
 * @example
 * ```ts
 * weighted(random, { none: 8, fail503: 1, slow: 1 });
 * ```
 */
export function weighted<K extends string>(random: Random, weights: Readonly<Record<K, number>>): K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let point = random() * total;
  for (const [key, weight] of entries) {
    point -= weight;
    if (point < 0) return key;
  }
  return entries[entries.length - 1]![0];
}
