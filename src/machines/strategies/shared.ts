/** Pure helpers the strategy machines share: session and scope into filters and create bodies, outcome into output. */
import { literal, mergeFilters } from '../../services/filter.js';
import { withFields } from '../../services/values.js';
import { RunManagerError, toRunManagerError } from '../../errors.js';
import type { CreateRunParams } from '../../services/api-types.js';
import type { QueryModifiers, Run, RunFilter, RunScope, UserSession } from '../../types.js';
import type { RunConfig, StrategyOutput } from './types.js';

/** Deep-merges plain objects left to right, skipping prototype keys so user data can never reach `Object.prototype`. */
export function deepMerge<T extends Record<string, unknown>>(...sources: Array<Record<string, unknown> | undefined | null>): T {
  // Same rules as the filter encoder's merge; one implementation serves both.
  return mergeFilters(...(sources as Array<RunFilter | undefined | null>)) as T;
}

/** The scope of this user's runs: the configured `run.scope`, with the session's group name as `group` (the session wins). */
export function sessionScope(config: RunConfig, session: UserSession): RunScope | undefined {
  const scope: RunScope = { ...(config.scope ?? {}) };
  if (session.groupName) scope.group = session.groupName;
  return Object.keys(scope).length > 0 ? scope : undefined;
}

/** Which parts of the session narrow a filter: the user (`user.id`) and the group; both default `true`. */
export interface ScopeBy {
  /** Only the session user's runs. */
  user?: boolean;
  /** Only runs of the session's group. */
  group?: boolean;
}

/** A filter for this user's runs: `filter` merged with the configured scope, the session group and `user.id`. */
export function sessionFilter(filter: RunFilter | undefined, config: RunConfig, session: UserSession, by: ScopeBy = {}): RunFilter {
  const { user = true, group = true } = by;
  // Session and configuration values are literals, never operators: a user id or group named
  // '<x' or '!=x' must not widen the query.
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

/** The body of a create: config extras, the session scope, the strategy's fields, then the caller's create options. */
export function createParams(
  config: RunConfig,
  session: UserSession,
  strategyFields?: Record<string, unknown>,
  createOptions?: Record<string, unknown>,
): CreateRunParams {
  const { model, files, cinFiles, ephemeral, sensitivityMode } = config;
  return deepMerge<CreateRunParams>(
    { model, files, cinFiles, ephemeral, sensitivityMode },
    { scope: sessionScope(config, session) },
    strategyFields,
    createOptions,
  );
}

/** Query modifiers for the newest matching run, in either paging spelling the original strategies sent (kept for wire compatibility). */
export function newestRunModifiers(spelling: 'lower' | 'camel'): QueryModifiers {
  return spelling === 'lower'
    ? { startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' }
    : { startRecord: 0, endRecord: 0, sort: 'created', direction: 'desc' };
}

/** Adds `include=` for the variables the callers asked for. */
export function withVariables(modifiers: QueryModifiers, names: string[] | undefined): QueryModifiers {
  return names && names.length > 0 ? withFields(modifiers, { include: names }) : modifiers;
}

/**
 * A machine's starting context: its own fields and its input, whose keys never overlap. Merged by
 * `Object.assign`, then copied by a spread: built either way alone, V8 either adds the keys slowly
 * or turns the copies every `assign` makes of a bigger context into slow dictionaries.
 */
export function startingContext<TOwn extends object, TInput extends object>(own: TOwn, input: TInput): TOwn & TInput {
  return { ...Object.assign(own, input) };
}

/** Marks a run as created by this resolution or reused. */
export function markRun(run: Run, freshlyCreated: boolean): Run {
  return withFields(run, { freshlyCreated });
}

/** What a strategy machine's context ends with: the run it resolved, or the error it failed with. */
export interface StrategyOutcome {
  /** The run resolved, or `null`. */
  run: Run | null;
  /** The failure, or `null`. */
  error: RunManagerError | null;
}

/** The machine output for a finished strategy: its run, or its error. */
export function strategyOutput({ run, error }: StrategyOutcome): StrategyOutput {
  if (error) return { ok: false, error };
  if (run) return { ok: true, run };
  return { ok: false, error: new RunManagerError('INVALID_RESPONSE', 'The strategy finished without a run') };
}

/** The error an actor failed with, as a `RunManagerError`. */
export function failure(error: unknown, context?: string): RunManagerError {
  return toRunManagerError(error, 'HTTP_ERROR', context);
}

/**
 * True when a create failed without telling whether the server made the run: `NETWORK_ERROR` or
 * `TIMEOUT` (the answer may be lost), or `INVALID_RESPONSE` (a 2xx body that was garbled).
 */
export function createMayHaveHappened(error: unknown): boolean {
  return (
    error instanceof RunManagerError && (error.type === 'NETWORK_ERROR' || error.type === 'TIMEOUT' || error.type === 'INVALID_RESPONSE')
  );
}

/** True when a run carries every field of an init flag (it finished initializing). */
export function carriesFlag(run: Run, flag: Record<string, unknown>): boolean {
  return Object.entries(flag).every(([key, value]) => JSON.stringify(run[key]) === JSON.stringify(value));
}

/** The done event's output, for named actions and guards (their event union leaves `xstate.done.actor.*` out). */
export function doneOutput<T>(event: { type: string }): T {
  return (event as unknown as { output: T }).output;
}

/** The error event's error, for named actions and guards. */
export function thrownBy(event: { type: string }): unknown {
  return (event as unknown as { error: unknown }).error;
}
