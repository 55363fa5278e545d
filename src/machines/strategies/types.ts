/** The strategy contract: a strategy statechart's input and output, and how the registry describes a strategy. */
import type { AnyStateMachine } from 'xstate';
import type { RunManagerError } from '../../errors.js';
import type { RunApi, WorldApi } from '../../services/api-types.js';
import type { Coordinator } from '../../services/coordination.js';
import type { Run, RunOptions, UserSession } from '../../types.js';

/** Which call a strategy resolves: `getRun` or `reset`. */
export type ResolutionMode = 'getRun' | 'reset';

/** The run configuration a strategy sees: the run options without the token or transport details. */
export type RunConfig = Omit<RunOptions, 'token' | 'server' | 'baseURL'>;

/** The session record's cached run, as `{ id, ...record }`. */
export interface CachedRun {
  /** The id of the run the record points at. */
  id: string;
  [key: string]: unknown;
}

/** A strategy in the original Epicenter.js object form, `{ getRun, reset }` (see `register`). */
export interface LegacyStrategy {
  /** Resolves the run for `getRun`, with `rm.run`, the user session and `{ id, ...record }` of the cached run. */
  getRun(runService: unknown, userSession: UserSession, runSession: Record<string, unknown>, options?: unknown): unknown;
  /** Resolves the run for `reset`, usually a new one. */
  reset(runService: unknown, userSession: UserSession, options?: unknown): unknown;
  [key: string]: unknown;
}

/** The I/O a strategy may use; actors call these, tests may swap them. */
export interface StrategyServices {
  /** The Run API client. */
  runApi: RunApi;
  /** The World API client (multiplayer strategies). */
  worldApi: WorldApi;
  /** The manager's RunService (`rm.run`), handed to user callbacks (`settings`, `onCreate`, legacy strategies). */
  runService: unknown;
  /** The runs `runService.create()` made: a count to mark with, and whether a run was made after a mark (tells a legacy strategy's run new from reused). */
  createdRuns?: { count(): number; since(runId: string, mark: number): boolean };
  /** The instance of a legacy `{ getRun, reset }` strategy, when that is the strategy. */
  legacy?: LegacyStrategy;
  /** Hands out the locks a strategy takes beyond the manager's own; default: the page's or process's coordinator. */
  coordinator?: Coordinator;
}

/** What the run-manager machine passes to a strategy machine. */
export interface StrategyInput<TOptions = Record<string, unknown>> {
  /** Whether the manager asked for `getRun` or `reset`. */
  mode: ResolutionMode;
  /** Account, project, model, scope and files of the runs to use. */
  config: RunConfig;
  /** The user session, without its `auth_token`; `{}` when nobody is logged in. */
  session: UserSession;
  /** The run the session record points at, if any. */
  cachedRun: CachedRun | undefined;
  /** The strategy's `strategyOptions`, as its definition prepared them. */
  options: TOptions;
  /** Extra create fields from `getRun(vars, createOptions)` / `reset(createOptions)`. */
  createOptions: Record<string, unknown> | undefined;
  /** The clients the strategy's actors call. */
  services: StrategyServices;
  /** The previous create's answer was lost and its run not found: look for it before creating again. */
  createInDoubt?: boolean;
  /** Variable names the callers asked for, to ask with `include=` when loading or querying the run. */
  variables?: string[];
}

/**
 * A finished strategy's output, from its `ready` or `error` final state: `{ ok: true, run }` (for `none` and some
 * legacy strategies `{ ok: true, run: null, value }`), or `{ ok: false, error }`, where `createInDoubt: true` says a
 * create's answer was lost and its run not found, so the next resolution looks for it before creating.
 */
export type StrategyOutput =
  | { ok: true; run: Run; extras?: Record<string, unknown> }
  | { ok: true; run: null; value: unknown }
  | { ok: false; error: RunManagerError; createInDoubt?: boolean };

/**
 * A strategy as the registry holds it. The type parameters (the `strategyOptions` it takes, what
 * `getRun` and `reset` resolve with) only type-check a manager's options and results.
 */
export interface StrategyDefinition<TOptions = unknown, TRun = unknown, TReset = TRun> {
  /** The name errors and the registry use. */
  name: string;
  /** The strategy statechart, following the strategy contract. */
  machine: AnyStateMachine;
  /** Reject `UNAUTHORIZED` (before any request) when there is no user session. */
  requiresAuth: boolean;
  /** Whether the manager writes the session record (false for reuse-never and none). */
  cachesRun: boolean;
  /**
   * What the strategy's runs belong to. On Epicenter v3 a `group` strategy needs `session.groupKey`
   * and a `world` strategy `session.groupName` (to list the group's worlds); without it the manager
   * rejects `UNAUTHORIZED` before any request.
   */
  scopedBy?: 'group' | 'world';
  /** Validates and normalises `strategyOptions` at construction; throws `INVALID_OPTIONS` naming the bad option. */
  prepareOptions?: (strategyOptions: Record<string, unknown>) => Record<string, unknown>;
  /**
   * Every `strategyOptions` key the strategy reads: any other key is `INVALID_OPTIONS`. Without it the
   * options pass unchecked, except `__proto__`, `constructor` and `prototype` keys.
   */
  optionKeys?: readonly string[];
  /** Options bound to the definition (e.g. `new ConditionalCreation(condition)`). */
  boundOptions?: Record<string, unknown>;
  /** For legacy strategies: builds the `{ getRun, reset }` instance from the manager options. */
  createLegacy?: (managerOptions: Record<string, unknown>) => LegacyStrategy;
  /** Type-only, never set: carries the type parameters. */
  readonly '~types'?: { options: TOptions; run: TRun; reset: TReset };
}
