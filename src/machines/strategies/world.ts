/** What the two multiplayer statecharts share: the user's world and its run (helpers, state configs, guards, actions). */
import type { EventObject } from 'xstate';
import { RunManagerError } from '../../errors.js';
import type { CreateRunParams, SelfAssignOptions, WorldRunId, WorldUser } from '../../services/api-types.js';
import type { Run, UserSession, World } from '../../types.js';
import { withFields } from '../../services/values.js';
import { doneOutput, markRun } from './shared.js';
import { defaultCreateParams, invokingState, sharedAssign, type AnyStrategyInput, type Outcome, type Transitions } from './states.js';
import type { StrategyInput } from './types.js';

/** The original's message when a multiplayer strategy runs without a logged-in user. */
export const NO_USER_MESSAGE = 'We need an authenticated user to join a multiplayer world. (ERR: no userId in session)';

/** The error for a multiplayer resolution without `session.userId` (the original's type and message). */
export function noUserError(): RunManagerError {
  return new RunManagerError('UNAUTHORIZED', NO_USER_MESSAGE);
}

/** The error for a user who is in no world (the original's type and message). */
export function noWorldError(userId: string | undefined): RunManagerError {
  return new RunManagerError('NO_WORLD_FOR_USER', `User ${userId} is not part of a world`);
}

/** The `findWorld` input for a session: its user id, its group name when known, and how to self-assign (v3). */
export function worldLookup<S>(services: S, session: UserSession, selfAssign?: SelfAssignOptions): { services: S } & WorldUser {
  const user: WorldUser = { userId: session.userId ?? '' };
  if (session.groupName) user.groupName = session.groupName;
  if (selfAssign) user.selfAssign = selfAssign;
  return { services, ...user };
}

/** The id of the world's current run as the world list names it (`world.run`), or `undefined` when it names none. */
export function listedRunId(world: World | null | undefined): string | undefined {
  const run = world?.run;
  return typeof run === 'string' && run !== '' ? run : undefined;
}

/**
 * A loaded world run as the strategy returns it: marked fresh or reused, with a copy of its world
 * attached that names this run as the world's current one (the list was read before a reset or create).
 */
export function worldRun(run: Run, world: World | null, freshlyCreated: boolean): Run {
  if (!world) return markRun(run, freshlyCreated);
  // An Epicenter v3 world also names it `runKey`.
  const current = typeof world.worldKey === 'string' ? { run: run.id, runKey: run.id } : { run: run.id };
  return withFields(run, { freshlyCreated, world: withFields(world, current) });
}

/** What a multiplayer machine's context holds besides its input: the world, the world-run answer, the run or the error. */
interface WorldOutcome extends Outcome {
  world: World | null;
  worldRun: WorldRunId | null;
}

/** A multiplayer machine's input and context, whatever its options. */
type WorldContext = AnyStrategyInput & WorldOutcome;

/** How both multiplayer statecharts start: without a user there is no world to find (`error`); with one, `next`. */
export function checkingSessionState<const TNext extends string>(next: TNext) {
  return {
    tags: 'busy',
    always: [{ guard: 'lacksUser', target: 'error', actions: 'rememberNoUser' }, { target: next }],
  } as const;
}

/** The user's current world (invoke `findWorld`); on Epicenter v3 a user in no world is put in one when `selfAssign` says how. */
export function findingWorldState<const TDone, const TError>({ onDone, onError }: Transitions<TDone, TError>) {
  return invokingState({
    id: 'findWorld',
    src: 'findWorld',
    // prepareOptions checked `selfAssign`.
    input: ({ context }: { context: StrategyInput<{ selfAssign?: unknown }> }) =>
      worldLookup(context.services, context.session, context.options.selfAssign as SelfAssignOptions | undefined),
    onDone,
    onError,
  });
}

/** The world-run call's input: the world and the body of the run it may create, by default `defaultCreateParams`. */
function worldRunInput<TContext extends WorldContext>(params: (context: TContext) => CreateRunParams = defaultCreateParams) {
  return ({ context }: { context: TContext }) => ({ services: context.services, worldId: context.world!.id, params: params(context) });
}

/** The world's current run, made now if it has none (invoke `getWorldRun`): its id, or on Epicenter v3 the whole run. */
export function gettingWorldRunState<TContext extends WorldContext, const TDone, const TError>({
  params,
  onDone,
  onError,
}: Transitions<TDone, TError> & { params?: (context: TContext) => CreateRunParams }) {
  return invokingState({ id: 'getWorldRun', src: 'getWorldRun', input: worldRunInput(params), onDone, onError });
}

/** A new current run for the world (invoke `replaceWorldRun`): its id, or on Epicenter v3 the whole run. */
export function replacingWorldRunState<TContext extends WorldContext, const TDone, const TError>({
  params,
  onDone,
  onError,
}: Transitions<TDone, TError> & { params?: (context: TContext) => CreateRunParams }) {
  return invokingState({ id: 'replaceWorldRun', src: 'replaceWorldRun', input: worldRunInput(params), onDone, onError });
}

/** Guard: no logged-in user, so no world to look for. */
export const lacksUser = ({ context }: { context: AnyStrategyInput }) => !context.session.userId;

export const foundNoWorld = ({ event }: { event: EventObject }) => doneOutput<World | undefined>(event) === undefined;

/** Guard: Epicenter v3 answers the world-run call with the whole run: nothing left to load. */
export const worldRunCameWithRun = ({ event }: { event: EventObject }) => doneOutput<WorldRunId>(event).run !== undefined;

export const rememberNoUser = sharedAssign<WorldOutcome>(() => ({ error: noUserError() }));

export const rememberNoWorld = sharedAssign<WorldContext>(({ context }) => ({ error: noWorldError(context.session.userId) }));

export const keepWorld = sharedAssign<WorldOutcome>(({ event }) => ({ world: doneOutput<World>(event) }));

/** `keepWorldRunId`: the world-run call's answer, the run id and whether it was created now. */
export const keepWorldRunId = sharedAssign<WorldOutcome>(({ event }) => ({ worldRun: doneOutput<WorldRunId>(event) }));
