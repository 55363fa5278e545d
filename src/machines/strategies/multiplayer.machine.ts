/**
 * multiplayer: the run is the current run of the user's world (the world with the newest
 * `lastModified`). Reset gives the world a new current run.
 */
import { assign, setup } from 'xstate';
import { isRunManagerError, RunManagerError } from '../../errors.js';
import type { SelfAssignOptions, WorldRunId, WorldUser } from '../../services/api-types.js';
import type { Run, UserSession, World } from '../../types.js';
import { findWorld, getWorldRun, loadRun, replaceWorldRun } from './actors.js';
import { optionalSelfAssign } from './options.js';
import { createParams, doneOutput, failure, markRun, strategyOutput, thrownBy } from './shared.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { MultiplayerStrategyOptions } from '../../strategy-options.js';

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
  return { ...markRun(run, freshlyCreated), world: { ...world, ...current } };
}

/** Context of {@link multiplayerMachine}. */
export interface MultiplayerContext extends StrategyInput {
  world: World | null;
  /** The answer of the world-run call: the run id and whether the server created it now (201). */
  worldRun: WorldRunId | null;
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The multiplayer statechart.
 * getRun: `checkingSession → findingWorld → loadingListedRun → ready` when the world list names the
 * world's current run (`world.run`): that run, reused, without the world-run call, which would only
 * answer the same id. `checkingSession → findingWorld → gettingWorldRun → loadingRun → ready` when
 * the list names none, and `loadingListedRun → gettingWorldRun` when the named run answers 404 (gone
 * since the list was read): the world-run call then gets or makes the world's current run, whose
 * answer (201 created now / 200 existing) sets `freshlyCreated`. On Epicenter v3 that answer is the
 * whole run, so `gettingWorldRun` and `replacingWorldRun` go straight to `ready`, with no `loadingRun`.
 * reset: `checkingSession → findingWorld → replacingWorldRun → loadingRun → ready`.
 * No `session.userId` fails `UNAUTHORIZED` before any request, and no world fails
 * `NO_WORLD_FOR_USER`, on reset too. The world-run body is built from the config, the session and
 * the create options only, never from the cached run.
 *
 * @example
 * ```ts
 * const actor = createActor(multiplayerMachine, {
 *   input: { mode: 'getRun', config, session: { userId: 'u1', groupName: 'g1' }, cachedRun: undefined, options: {}, createOptions: undefined, services },
 * });
 * actor.start();
 * const output = (await toPromise(actor)) as StrategyOutput; // output.run.world, output.run.freshlyCreated
 * ```
 */
export const multiplayerMachine = setup({
  types: {
    context: {} as MultiplayerContext,
    input: {} as StrategyInput,
    output: {} as StrategyOutput,
    children: {} as {
      findWorld: 'findWorld';
      getWorldRun: 'getWorldRun';
      replaceWorldRun: 'replaceWorldRun';
      loadListedRun: 'loadRun';
      loadRun: 'loadRun';
    },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { findWorld, getWorldRun, replaceWorldRun, loadRun },
  guards: {
    isReset: ({ context }) => context.mode === 'reset',
    lacksUser: ({ context }) => !context.session.userId,
    foundNoWorld: ({ event }) => doneOutput<World | undefined>(event) === undefined,
    worldNamesRun: ({ event }) => listedRunId(doneOutput<World>(event)) !== undefined,
    runIsGone: ({ event }) => isRunManagerError(thrownBy(event), 'RUN_NOT_FOUND'),
    // Epicenter v3 answers the world-run call with the whole run: nothing left to load.
    worldRunCameWithRun: ({ event }) => doneOutput<WorldRunId>(event).run !== undefined,
  },
  actions: {
    rememberNoUser: assign({ error: () => noUserError() }),
    rememberNoWorld: assign(({ context }) => ({ error: noWorldError(context.session.userId) })),
    keepWorld: assign(({ event }) => ({ world: doneOutput<World>(event) })),
    keepWorldRunId: assign(({ event }) => ({ worldRun: doneOutput<WorldRunId>(event) })),
    keepAnsweredWorldRun: assign(({ context, event }) => {
      const answer = doneOutput<WorldRunId>(event);
      return { worldRun: answer, run: worldRun(answer.run!, context.world, context.mode === 'reset' || answer.freshlyCreated) };
    }),
    // The world already had this run when its list was read: nothing was created for this user.
    keepListedRun: assign(({ context, event }) => ({ run: worldRun(doneOutput<Run>(event), context.world, false) })),
    // A reset always makes a new run; getRun's world-run call says whether it made one (201).
    keepWorldRun: assign(({ context, event }) => ({
      run: worldRun(doneOutput<Run>(event), context.world, context.mode === 'reset' || context.worldRun!.freshlyCreated),
    })),
    rememberFailure: assign(({ event }) => ({ error: failure(thrownBy(event)) })),
  },
}).createMachine({
  id: 'multiplayer',
  context: ({ input }) => ({ ...input, world: null, worldRun: null, run: null, error: null }),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: {
      tags: 'busy',
      always: [{ guard: 'lacksUser', target: 'error', actions: 'rememberNoUser' }, { target: 'findingWorld' }],
    },
    findingWorld: {
      tags: 'busy',
      invoke: {
        id: 'findWorld',
        src: 'findWorld',
        input: ({ context }) => worldLookup(context.services, context.session, context.options.selfAssign as SelfAssignOptions | undefined),
        onDone: [
          { guard: 'foundNoWorld', target: 'error', actions: 'rememberNoWorld' },
          { guard: 'isReset', target: 'replacingWorldRun', actions: 'keepWorld' },
          { guard: 'worldNamesRun', target: 'loadingListedRun', actions: 'keepWorld' },
          { target: 'gettingWorldRun', actions: 'keepWorld' },
        ],
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    loadingListedRun: {
      tags: 'busy',
      invoke: {
        id: 'loadListedRun',
        src: 'loadRun',
        input: ({ context }) => ({ services: context.services, runId: listedRunId(context.world)!, include: context.variables }),
        onDone: { target: 'ready', actions: 'keepListedRun' },
        // Gone since the list was read: the world-run call answers the world's current run, as when the list names none.
        onError: [
          { guard: 'runIsGone', target: 'gettingWorldRun' },
          { target: 'error', actions: 'rememberFailure' },
        ],
      },
    },
    gettingWorldRun: {
      tags: 'busy',
      invoke: {
        id: 'getWorldRun',
        src: 'getWorldRun',
        input: ({ context }) => ({
          services: context.services,
          worldId: context.world!.id,
          params: createParams(context.config, context.session, undefined, context.createOptions),
        }),
        onDone: [
          { guard: 'worldRunCameWithRun', target: 'ready', actions: 'keepAnsweredWorldRun' },
          { target: 'loadingRun', actions: 'keepWorldRunId' },
        ],
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    replacingWorldRun: {
      tags: 'busy',
      invoke: {
        id: 'replaceWorldRun',
        src: 'replaceWorldRun',
        input: ({ context }) => ({
          services: context.services,
          worldId: context.world!.id,
          params: createParams(context.config, context.session, undefined, context.createOptions),
        }),
        onDone: [
          { guard: 'worldRunCameWithRun', target: 'ready', actions: 'keepAnsweredWorldRun' },
          { target: 'loadingRun', actions: 'keepWorldRunId' },
        ],
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    loadingRun: {
      tags: 'busy',
      invoke: {
        id: 'loadRun',
        src: 'loadRun',
        input: ({ context }) => ({ services: context.services, runId: context.worldRun!.runId, include: context.variables }),
        onDone: { target: 'ready', actions: 'keepWorldRun' },
        onError: { target: 'error', actions: 'rememberFailure' },
      },
    },
    ready: { type: 'final', tags: 'ready' },
    error: { type: 'final', tags: 'error' },
  },
});

/**
 * The registry entry of multiplayer. It takes no strategy options (no `prepareOptions`, and any key is refused)
 * and does its own `userId` check, with the original's message, instead of `requiresAuth`.
 *
 * @example
 * ```ts
 * new RunManager({ run, strategy: multiplayerStrategy });
 * ```
 */
export const multiplayerStrategy: StrategyDefinition<MultiplayerStrategyOptions, Run> = {
  name: 'multiplayer',
  machine: multiplayerMachine,
  requiresAuth: false,
  cachesRun: true,
  scopedBy: 'world',
  prepareOptions: (strategyOptions) => {
    const selfAssign = optionalSelfAssign(strategyOptions.selfAssign);
    return selfAssign ? { selfAssign } : {};
  },
  optionKeys: ['selfAssign'],
};
