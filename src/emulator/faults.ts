/**
 * Fault injection: a request consumes at most one `slow` fault, then at most one terminal fault
 * (`fail`, `drop`, `truncate`), each the earliest registered that matches its method and path.
 */
import { StoreBudget } from './limits.js';
import type { DropFault, FailFault, FaultSpec, FaultTarget, SlowFault } from './types.js';

export interface PendingFault {
  spec: FaultSpec;
  remaining: number;
}

function validateTarget(target: FaultTarget): void {
  if (target.method !== undefined && typeof target.method !== 'string') throw new TypeError('fault method must be a string');
  if (target.path !== undefined && typeof target.path !== 'string' && !(target.path instanceof RegExp)) {
    throw new TypeError('fault path must be a string or a RegExp');
  }
  const times = target.times ?? 1;
  if (!(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times > 0))) {
    throw new TypeError('fault times must be a positive integer or Infinity');
  }
}

function validate(spec: FaultSpec): void {
  validateTarget(spec);
  switch (spec.kind) {
    case 'fail': {
      const { status, headers, code } = spec as FailFault;
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError('fail status must be an HTTP status (100-599)');
      if (code !== undefined && (typeof code !== 'string' || code === '')) throw new TypeError('fail code must be a non-empty string');
      if (headers !== undefined && (headers === null || typeof headers !== 'object')) throw new TypeError('fail headers must be an object');
      // Kept and serialized for every matching request: bounded like stored run data.
      new StoreBudget('fail body', (message) => new TypeError(message)).value((spec as FailFault).body, 0);
      return;
    }
    case 'drop': {
      const { when } = spec as DropFault;
      if (when !== undefined && when !== 'before' && when !== 'after') throw new TypeError("drop when must be 'before' or 'after'");
      return;
    }
    case 'slow': {
      const { delayMs } = spec as SlowFault;
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0)
        throw new TypeError('slow delayMs must be a non-negative number');
      return;
    }
    case 'truncate':
      return;
    default:
      throw new TypeError(`unknown fault kind "${String((spec as { kind?: unknown }).kind)}"`);
  }
}

function matches(spec: FaultSpec, method: string, path: string): boolean {
  if (spec.method !== undefined && spec.method.toUpperCase() !== method) return false;
  if (spec.path === undefined) return true;
  if (typeof spec.path === 'string') return path.includes(spec.path);
  spec.path.lastIndex = 0;
  return spec.path.test(path);
}

export class FaultRegistry {
  private pending: PendingFault[] = [];

  /** Throws TypeError on a bad spec. */
  add(spec: FaultSpec): void {
    validate(spec);
    this.pending.push({ spec: { ...spec }, remaining: spec.times ?? 1 });
  }

  list(): FaultSpec[] {
    return this.pending.map(({ spec, remaining }) => ({ ...spec, times: remaining }));
  }

  clear(): void {
    this.pending = [];
  }

  private take(method: string, path: string, accept: (spec: FaultSpec) => boolean): FaultSpec | undefined {
    if (this.pending.length === 0) return undefined;
    const index = this.pending.findIndex(({ spec }) => accept(spec) && matches(spec, method, path));
    if (index < 0) return undefined;
    const found = this.pending[index] as PendingFault;
    found.remaining -= 1;
    if (found.remaining <= 0) this.pending.splice(index, 1);
    return found.spec;
  }

  takeSlow(method: string, path: string): SlowFault | undefined {
    return this.take(method, path, (spec) => spec.kind === 'slow') as SlowFault | undefined;
  }

  takeTerminal(method: string, path: string): FaultSpec | undefined {
    return this.take(method, path, (spec) => spec.kind !== 'slow');
  }
}
