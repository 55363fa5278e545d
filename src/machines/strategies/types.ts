/**
 * The strategy contract: what every strategy statechart takes as input and returns as output,
 * and how a strategy is described to the registry.
 */
import type { AnyStateMachine } from 'xstate';
import type { RunManagerError } from '../../errors.js';
import type { RunApi, WorldApi } from '../../services/api-types.js';
import type { Coordinator } from '../../services/coordination.js';
import type { Run, RunOptions, UserSession } from '../../types.js';

/** Whether a resolution is a `getRun` or a `reset`. */
export type ResolutionMode = 'getRun' | 'reset';

/**
 * The run configuration a strategy sees: the run options without the token or transport details.
 *
 * @example
 * ```ts
 * const config: RunConfig = { account: 'acme', project: 'sim', model: 'model.py', scope: { region: 'eu' } };
 * ```
 */
export type RunConfig = Omit<RunOptions, 'token' | 'server' | 'baseURL'>;

/** The cached run of this session key (from the session record), as `{ id, ...record }`. */
export interface CachedRun {
  id: string;
  [key: string]: unknown;
}

/**
 * A strategy in the seeds' object form: `{ getRun, reset }` (see `register`).
 *
 * @example
 * ```ts
 * const favourite: LegacyStrategy = { getRun: () => api.load('r1'), reset: () => api.load('r1') };
 * ```
 */
export interface LegacyStrategy {
  getRun(runService: unknown, userSession: UserSession, runSession: Record<string, unknown>, options?: unknown): unknown;
  reset(runService: unknown, userSession: UserSession, options?: unknown): unknown;
  [key: string]: unknown;
}

/**
 * The I/O a strategy may use. Actors call these; tests and users may swap them.
 *
 * @example
 * ```ts
 * const services: StrategyServices = { runApi, worldApi, runService: rm.run };
 * ```
 */
export interface StrategyServices {
  runApi: RunApi;
  worldApi: WorldApi;
  /** The manager's RunService (`rm.run`), handed to user callbacks (`settings`, `onCreate`, legacy strategies). */
  runService: unknown;
  /** The constructed instance of a legacy `{ getRun, reset }` strategy, when that is the strategy. */
  legacy?: LegacyStrategy;
  /**
   * Hands out the locks a strategy takes beyond the manager's own (a run limit's count and create);
   * default: the page's or process's coordinator.
   */
  coordinator?: Coordinator;
}

/**
 * What the run-manager machine passes to a strategy machine.
 *
 * @example
 * ```ts
 * createActor(reusePerSessionMachine, { input: { mode: 'getRun', config, session: { userId: 'u1' }, cachedRun: undefined, options: {}, createOptions: undefined, services } });
 * ```
 */
export interface StrategyInput<TOptions = Record<string, unknown>> {
  mode: ResolutionMode;
  config: RunConfig;
  /** The user session, without its `auth_token`; `{}` when nobody is logged in. */
  session: UserSession;
  cachedRun: CachedRun | undefined;
  options: TOptions;
  /** Extra create fields from `getRun(vars, createOptions)` / `reset(createOptions)`. */
  createOptions: Record<string, unknown> | undefined;
  services: StrategyServices;
  /**
   * The previous resolution of this manager ended with a create whose answer was lost and whose run
   * could not be found: a strategy that can find such a run should look before creating again.
   */
  createInDoubt?: boolean;
  /**
   * Variable names the callers asked for: a strategy that loads or queries the run it returns asks
   * for them with `include=`, so no separate variables request is needed.
   */
  variables?: string[];
}

/**
 * The output of a finished strategy machine: a run (or, for `none` and some legacy strategies,
 * no run and an arbitrary `value`), or a typed error.
 *
 * @example
 * ```ts
 * const output = actor.getSnapshot().output as StrategyOutput;
 * if (output.ok) console.log(output.run?.id);
 * ```
 */
export type StrategyOutput =
  | { ok: true; run: Run; extras?: Record<string, unknown> }
  | { ok: true; run: null; value: unknown }
  | { ok: false; error: RunManagerError; createInDoubt?: boolean };

/**
 * A strategy as the registry holds it.
 *
 * @example
 * ```ts
 * const definition: StrategyDefinition = { name: 'my-strategy', machine: myMachine, requiresAuth: true, cachesRun: true };
 * ```
 */
export interface StrategyDefinition {
  name: string;
  /** A statechart that follows the strategy contract. */
  machine: AnyStateMachine;
  /** Reject `UNAUTHORIZED` (before any request) when there is no user session. */
  requiresAuth: boolean;
  /** Whether the manager writes the session record for this strategy (false for reuse-never and none). */
  cachesRun: boolean;
  /**
   * Validates and normalises `strategyOptions` when the manager is constructed; throws
   * `RunManagerError('INVALID_OPTIONS')` naming the bad option.
   */
  prepareOptions?: (strategyOptions: Record<string, unknown>) => Record<string, unknown>;
  /**
   * Every `strategyOptions` key the strategy reads. When present, any other key is
   * `INVALID_OPTIONS` at construction (with the likely intended key); when absent, the options are
   * passed through unchecked, except that `__proto__`, `constructor` and `prototype` keys are refused.
   */
  optionKeys?: readonly string[];
  /** Options bound to the definition (e.g. `new ConditionalCreation(condition)`). */
  boundOptions?: Record<string, unknown>;
  /** For legacy strategies: builds the `{ getRun, reset }` instance from the manager options. */
  createLegacy?: (managerOptions: Record<string, unknown>) => LegacyStrategy;
}
