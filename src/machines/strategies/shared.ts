/**
 * Pure helpers the strategy machines share: how the session and the configured scope turn into
 * query filters and create bodies, and how a strategy's outcome becomes its output.
 */
import { literal, mergeFilters } from '../../services/filter.js';
import { RunManagerError, toRunManagerError } from '../../errors.js';
import type { CreateRunParams } from '../../services/api-types.js';
import type { QueryModifiers, Run, RunFilter, RunScope, UserSession } from '../../types.js';
import type { RunConfig, StrategyOutput } from './types.js';

type PlainObject = Record<string, unknown>;

/**
 * Deep-merges plain objects left to right (later leaves win, arrays replace, `undefined` is skipped),
 * returning a new object. Keys `__proto__`, `constructor` and `prototype` are skipped and every key
 * is an own property, so merged user data can never reach `Object.prototype`.
 *
 * @example
 * ```ts
 * deepMerge({ scope: { region: 'eu' } }, { scope: { group: 'g1' } }); // { scope: { region: 'eu', group: 'g1' } }
 * ```
 */
export function deepMerge<T extends PlainObject>(...sources: Array<PlainObject | undefined | null>): T {
  // The filter encoder's merge has exactly these rules; one implementation serves both.
  return mergeFilters(...(sources as Array<RunFilter | undefined | null>)) as T;
}

/**
 * The scope a run of this user has: the configured `run.scope`, with the session's group name as
 * `group` (the session wins, design "Scope").
 *
 * @example
 * ```ts
 * sessionScope({ account: 'a', project: 'p', model: 'm', scope: { region: 'eu' } }, { groupName: 'g1' });
 * // { region: 'eu', group: 'g1' }
 * ```
 */
export function sessionScope(config: RunConfig, session: UserSession): RunScope | undefined {
  const scope: RunScope = { ...(config.scope ?? {}) };
  if (session.groupName) scope.group = session.groupName;
  return Object.keys(scope).length > 0 ? scope : undefined;
}

/** Which parts of the session narrow a query. */
export interface ScopeBy {
  user?: boolean;
  group?: boolean;
}

/**
 * A filter for "this user's runs": `filter` merged with the configured scope, the session group and
 * `user.id` (each optional), so what a strategy creates it finds again.
 *
 * @example
 * ```ts
 * sessionFilter({ trashed: false }, config, { userId: 'u1', groupName: 'g1' });
 * // { trashed: false, scope: { group: 'g1' }, 'user.id': 'u1' }
 * ```
 */
export function sessionFilter(filter: RunFilter | undefined, config: RunConfig, session: UserSession, by: ScopeBy = {}): RunFilter {
  const { user = true, group = true } = by;
  // What the session and the configuration contribute are values, never operators: a user id or
  // group named '<x' or '!=x' must not widen the query (improvement 4).
  const scope: RunFilter = {};
  for (const [key, value] of Object.entries(config.scope ?? {})) {
    scope[key] = typeof value === 'string' ? literal(value) : (value as RunFilter[string]);
  }
  if (group && session.groupName) scope.group = literal(session.groupName);
  if (!group) delete scope.group;
  return deepMerge<RunFilter>(
    Object.keys(scope).length > 0 ? { scope } : undefined,
    filter,
    user && session.userId ? { 'user.id': literal(session.userId) } : undefined,
  );
}

/**
 * The body of a create: model and Vensim extras from the config, the session scope, then the
 * strategy's own fields (e.g. `{ scope: { trackingKey } }`), then the caller's create options.
 *
 * @example
 * ```ts
 * createParams(config, { groupName: 'g1' }, { scope: { trackingKey: 'tk' } });
 * // { model: 'model.py', scope: { group: 'g1', trackingKey: 'tk' } }
 * ```
 */
export function createParams(
  config: RunConfig,
  session: UserSession,
  strategyFields?: PlainObject,
  createOptions?: PlainObject,
): CreateRunParams {
  const { model, files, cinFiles, ephemeral, sensitivityMode } = config;
  return deepMerge<CreateRunParams>(
    { model, files, cinFiles, ephemeral, sensitivityMode },
    { scope: sessionScope(config, session) },
    strategyFields,
    createOptions,
  );
}

/**
 * Query modifiers for "the newest matching run". The original sent two spellings of the paging
 * parameters depending on the strategy; both are kept for wire compatibility.
 *
 * @example
 * ```ts
 * newestRunModifiers('camel'); // { startRecord: 0, endRecord: 0, sort: 'created', direction: 'desc' }
 * ```
 */
export function newestRunModifiers(spelling: 'lower' | 'camel'): QueryModifiers {
  return spelling === 'lower'
    ? { startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' }
    : { startRecord: 0, endRecord: 0, sort: 'created', direction: 'desc' };
}

/**
 * Adds `include=` for the variables the callers asked for, so the query returns them with the run.
 *
 * @example
 * ```ts
 * withVariables(newestRunModifiers('lower'), ['price']); // { …, include: ['price'] }
 * ```
 */
export function withVariables(modifiers: QueryModifiers, names: string[] | undefined): QueryModifiers {
  return names && names.length > 0 ? { ...modifiers, include: names } : modifiers;
}

/**
 * Marks a run as created by this resolution or reused.
 *
 * @example
 * ```ts
 * markRun(run, true).freshlyCreated; // true
 * ```
 */
export function markRun(run: Run, freshlyCreated: boolean): Run {
  return { ...run, freshlyCreated };
}

/** The context fields every strategy machine ends with. */
export interface StrategyOutcome {
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The machine output for a finished strategy: its run, or its error.
 *
 * @example
 * ```ts
 * setup({ ... }).createMachine({ ..., output: ({ context }) => strategyOutput(context) });
 * ```
 */
export function strategyOutput({ run, error }: StrategyOutcome): StrategyOutput {
  if (error) return { ok: false, error };
  if (run) return { ok: true, run };
  return { ok: false, error: new RunManagerError('INVALID_RESPONSE', 'The strategy finished without a run') };
}

/**
 * The error an actor failed with, as a `RunManagerError`.
 *
 * @example
 * ```ts
 * onError: { target: 'error', actions: assign({ error: ({ event }) => failure(event.error) }) }
 * ```
 */
export function failure(error: unknown, context?: string): RunManagerError {
  return toRunManagerError(error, 'HTTP_ERROR', context);
}

/**
 * True when a create failed in a way that does not tell whether the server made the run: the
 * connection dropped or timed out (`NETWORK_ERROR`, `TIMEOUT`: the request may have been carried out
 * with no answer coming back), or a 2xx answer came back unreadable (`INVALID_RESPONSE`: the run was
 * made, its body was truncated or garbled). Any other failure (an HTTP error status, `ABORTED`, …)
 * means nothing was created.
 *
 * @example
 * ```ts
 * createMayHaveHappened(new RunManagerError('NETWORK_ERROR', 'socket hang up')); // true
 * createMayHaveHappened(new RunManagerError('INVALID_RESPONSE', 'not JSON'));    // true
 * createMayHaveHappened(new RunManagerError('HTTP_ERROR', 'HTTP 500', { status: 500 })); // false
 * ```
 */
export function createMayHaveHappened(error: unknown): boolean {
  return (
    error instanceof RunManagerError && (error.type === 'NETWORK_ERROR' || error.type === 'TIMEOUT' || error.type === 'INVALID_RESPONSE')
  );
}

/**
 * True when a run carries every field of an init flag (so it finished initializing).
 *
 * @example
 * ```ts
 * carriesFlag({ id: 'r', isInitComplete: true }, { isInitComplete: true }); // true
 * ```
 */
export function carriesFlag(run: Run, flag: Record<string, unknown>): boolean {
  return Object.entries(flag).every(([key, value]) => JSON.stringify(run[key]) === JSON.stringify(value));
}

/**
 * The output of the invoked actor whose done event a named action or guard is handling. (Actions
 * named in `setup()` see the machine's own event union, which leaves `xstate.done.actor.*` out.)
 */
export function doneOutput<T>(event: { type: string }): T {
  return (event as unknown as { output: T }).output;
}

/** What the invoked actor whose error event a named action or guard is handling failed with. */
export function thrownBy(event: { type: string }): unknown {
  return (event as unknown as { error: unknown }).error;
}
