/**
 * The soak's fault schedule. Every simulated user has its own seeded stream of decisions, one per
 * request it sends (the k-th request of user u always gets decision k of u's stream), so the
 * schedule is a pure function of the seed, whatever the interleaving of users.
 *
 * Just before a request leaves the client (an ofetch `onRequest` hook on the user's own fetch
 * instance), the decision for it is registered with the emulator as a fault on that exact path.
 * Every user has a project of its own, so its paths — and its faults — are its alone. The one
 * shared path is the world list (`GET /v2/multiplayer/world/`, the user is in the query string,
 * which faults cannot target): it is exempt.
 */
import type { Emulator } from '../../src/emulator/index.js';
import { hash32, stream, weighted, type Random } from './prng.js';

/** What can happen to one request. `outage` is three 503s in a row for a GET (enough to exhaust the client's retries). */
export type FaultKind = 'fail503' | 'fail429' | 'dropBefore' | 'dropAfter' | 'slow' | 'truncate' | 'outage';

/** A drawn decision: a fault, or none. */
export type Decision = FaultKind | 'none';

/** Relative weights of the fault kinds among faulted requests. */
export const FAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  fail503: 24,
  fail429: 14,
  dropBefore: 14,
  dropAfter: 16,
  slow: 14,
  truncate: 8,
  outage: 10,
};

/** What a request is, by method and path (for the figures and for the world-list exemption). */
export type RequestKind =
  'create' | 'query' | 'load' | 'variables' | 'operation' | 'patch' | 'world-list' | 'world-run' | 'world-delete' | 'other';

/**
 * Classifies a request by method and path.
 *
 * @example
 * ```ts
 * classify('POST', '/v2/run/acme/soak-1/'); // 'create'
 * ```
 */
export function classify(method: string, path: string): RequestKind {
  if (path.startsWith('/v2/multiplayer/world/')) {
    if (path === '/v2/multiplayer/world/' || path === '/v2/multiplayer/world') return 'world-list';
    if (method === 'DELETE') return 'world-delete';
    if (method === 'POST') return 'world-run';
    return 'other';
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  // ['v2', 'run', account, project, target?, ...tail]
  if (segments[0] !== 'v2' || segments[1] !== 'run') return 'other';
  const target = segments[4];
  if (target === undefined) return method === 'POST' ? 'create' : method === 'GET' ? 'query' : 'other';
  if (target.startsWith(';')) return method === 'GET' ? 'query' : 'patch';
  if (segments[5] === 'operations') return 'operation';
  if (segments[5] === 'variables') return 'variables';
  if (method === 'PATCH') return 'patch';
  if (method === 'GET') return 'load';
  return 'other';
}

/** One decision as it was applied to a request. */
export interface AppliedDecision {
  user: number;
  /** The request's position in the user's sequence (from 0). */
  k: number;
  /** The attempt tag the request carried. */
  tag: string;
  method: string;
  path: string;
  kind: RequestKind;
  /** What was registered: the drawn decision, `none`, `exempt` (world list), or `outage-cont` (a retry inside an outage). */
  applied: Decision | 'exempt' | 'outage-cont';
}

/** Settings of a {@link FaultInjector}. */
export interface FaultSettings {
  seed: number;
  /** Probability that a request is faulted. */
  rate: number;
  /** Delay of a `slow` fault (longer than the client timeout). */
  stallMs: number;
  /** The client's GET retries: an outage lasts `retries + 1` tries. */
  retries: number;
  /** `Retry-After` of a 429, in seconds. */
  retryAfterSeconds: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The decision stream and bookkeeping of one user. */
export class UserFaults {
  private k = 0;
  private outage: { path: string; remaining: number } | null = null;
  private readonly random: Random;

  constructor(
    private readonly injector: FaultInjector,
    readonly user: number,
  ) {
    this.random = stream(injector.settings.seed, 'faults', user);
  }

  /** Draws the next decision (exactly one draw per request, so decision k stays decision k). */
  draw(): Decision {
    const faulted = this.random() < this.injector.settings.rate;
    const kind = weighted(this.random, FAULT_WEIGHTS);
    return faulted ? kind : 'none';
  }

  /** Decides for one request about to be sent and registers the fault with the emulator. */
  before(method: string, path: string, tag: string): AppliedDecision {
    const k = this.k;
    this.k += 1;
    const drawn = this.draw();
    const kind = classify(method, path);
    let applied: AppliedDecision['applied'] = drawn;
    if (kind === 'world-list') {
      applied = 'exempt';
    } else if (this.outage && this.outage.path === path && method === 'GET' && this.outage.remaining > 0) {
      this.outage.remaining -= 1;
      applied = 'outage-cont';
    } else {
      this.outage = null;
      if (drawn === 'outage' && method !== 'GET') applied = 'fail503';
      this.injector.register(applied, method, path);
      if (applied === 'outage') this.outage = { path, remaining: this.injector.settings.retries };
    }
    const decision: AppliedDecision = { user: this.user, k, tag, method, path, kind, applied };
    this.injector.applied.push(decision);
    return decision;
  }
}

/**
 * Registers seeded faults with an emulator, per user and request.
 *
 * @example
 * ```ts
 * const injector = new FaultInjector(emulator, { seed: 1, rate: 0.25, stallMs: 500, retries: 2, retryAfterSeconds: 1 });
 * const faults = injector.forUser(0);
 * faults.before('GET', '/v2/run/acme/soak-0000/;user.id=u0/', 'u0:getRun1:1');
 * ```
 */
export class FaultInjector {
  /** Every decision applied, in the order requests were sent. */
  readonly applied: AppliedDecision[] = [];
  /** Faults registered with the emulator, by kind. */
  readonly registered: Record<FaultKind, number> = {
    fail503: 0,
    fail429: 0,
    dropBefore: 0,
    dropAfter: 0,
    slow: 0,
    truncate: 0,
    outage: 0,
  };

  constructor(
    private readonly emulator: Emulator,
    readonly settings: FaultSettings,
  ) {}

  forUser(user: number): UserFaults {
    return new UserFaults(this, user);
  }

  /** Registers one decision as an emulator fault on exactly this method and path. */
  register(decision: Decision, method: string, path: string): void {
    if (decision === 'none') return;
    const target = { method, path: new RegExp(`^${escapeRegExp(path)}$`) };
    this.registered[decision] += 1;
    switch (decision) {
      case 'fail503':
        this.emulator.fail({ ...target, status: 503 });
        return;
      case 'fail429':
        this.emulator.fail({ ...target, status: 429, headers: { 'Retry-After': String(this.settings.retryAfterSeconds) } });
        return;
      case 'outage':
        this.emulator.fail({ ...target, status: 503, times: this.settings.retries + 1 });
        return;
      case 'dropBefore':
        this.emulator.drop({ ...target, when: 'before' });
        return;
      case 'dropAfter':
        this.emulator.drop({ ...target, when: 'after' });
        return;
      case 'slow':
        this.emulator.slow({ ...target, delayMs: this.settings.stallMs });
        return;
      case 'truncate':
        this.emulator.truncate(target);
        return;
    }
  }
}

/**
 * A fingerprint of the schedule itself: the first `perUser` decisions of every user's stream.
 * A pure function of the seed (the same seed always prints the same value).
 *
 * @example
 * ```ts
 * scheduleFingerprint({ seed: 1, rate: 0.25, stallMs: 500, retries: 2, retryAfterSeconds: 1 }, 60); // e.g. '3f2a9c01'
 * ```
 */
export function scheduleFingerprint(settings: FaultSettings, users: number, perUser = 32): string {
  const parts: Array<string | number> = [];
  const probe = new FaultInjector({} as Emulator, settings);
  for (let user = 0; user < users; user += 1) {
    const faults = probe.forUser(user);
    for (let k = 0; k < perUser; k += 1) parts.push(faults.draw());
  }
  return hash32(...parts)
    .toString(16)
    .padStart(8, '0');
}

/**
 * A fingerprint of what was applied: per user, in order, each request's decision, method and kind.
 *
 * @example
 * ```ts
 * appliedFingerprint(injector.applied);
 * ```
 */
export function appliedFingerprint(applied: readonly AppliedDecision[]): string {
  const byUser = new Map<number, string[]>();
  for (const decision of applied) {
    const list = byUser.get(decision.user) ?? [];
    list.push(`${decision.k}:${decision.applied}:${decision.method}:${decision.kind}`);
    byUser.set(decision.user, list);
  }
  const users = [...byUser.keys()].sort((a, b) => a - b);
  return hash32(...users.flatMap((user) => [user, ...byUser.get(user)!]))
    .toString(16)
    .padStart(8, '0');
}
