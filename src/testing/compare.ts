/**
 * How a replay compares actual with planned: errors by type and status (a real client's message
 * differs from a planned one), everything else by value, keys sorted, `undefined` fields dropped.
 */

/** A plain, order-independent form of a value for comparison. */
export function comparable(value: unknown): unknown {
  if (value instanceof Error) {
    const { type, status } = value as Error & { type?: unknown; status?: unknown };
    const result: Record<string, unknown> = { error: typeof type === 'string' ? type : value.name };
    if (status !== undefined) result.status = status;
    return result;
  }
  if (typeof Headers !== 'undefined' && value instanceof Headers) return '[Headers]';
  if (typeof value === 'function') return '[function]';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) result[key] = comparable(field);
    }
    return result;
  }
  return value;
}

/** Throws when `actual` and `expected` differ (by {@link comparable}), naming `what`. */
export function assertComparable(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(comparable(actual));
  const e = JSON.stringify(comparable(expected));
  if (a !== e) throw new Error(`${what} differs from the plan:\n  expected ${e}\n  actual   ${a}`);
}
