/**
 * multiplayer: the run is the current run of the user's world (the world with the newest
 * `lastModified`). Reset gives the world a new current run.
 */
import { assign, setup } from 'xstate';
import type { RunManagerError } from '../../errors.js';
import type { WorldRunId } from '../../services/api-types.js';
import type { Run, World } from '../../types.js';
import { findWorld, getWorldRun, loadRun, replaceWorldRun } from './actors.js';
import { optionalSelfAssign } from './options.js';
import { doneOutput, startingContext, strategyOutput } from './shared.js';
import { errorState, isReset, loadingRunState, readyState, rememberFailure, runIsGone } from './states.js';
import {
  checkingSessionState,
  findingWorldState,
  foundNoWorld,
  gettingWorldRunState,
  keepWorld,
  keepWorldRunId,
  lacksUser,
  listedRunId,
  rememberNoUser,
  rememberNoWorld,
  replacingWorldRunState,
  worldRun,
  worldRunCameWithRun,
} from './world.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { MultiplayerStrategyOptions } from '../../strategy-options.js';

// The world helpers are shared with reuse-by-tracking-key-multiplayer; exported here as before.
export { listedRunId, noUserError, noWorldError, NO_USER_MESSAGE, worldLookup, worldRun } from './world.js';

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
    isReset,
    lacksUser,
    foundNoWorld,
    worldNamesRun: ({ event }) => listedRunId(doneOutput<World>(event)) !== undefined,
    runIsGone,
    worldRunCameWithRun,
  },
  actions: {
    rememberNoUser: rememberNoUser(),
    rememberNoWorld: rememberNoWorld(),
    keepWorld: keepWorld(),
    keepWorldRunId: keepWorldRunId(),
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
    rememberFailure: rememberFailure(),
  },
}).createMachine({
  id: 'multiplayer',
  context: ({ input }) => startingContext({ world: null, worldRun: null, run: null, error: null }, input),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: checkingSessionState('findingWorld'),
    findingWorld: findingWorldState({
      onDone: [
        { guard: 'foundNoWorld', target: 'error', actions: 'rememberNoWorld' },
        { guard: 'isReset', target: 'replacingWorldRun', actions: 'keepWorld' },
        { guard: 'worldNamesRun', target: 'loadingListedRun', actions: 'keepWorld' },
        { target: 'gettingWorldRun', actions: 'keepWorld' },
      ],
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    loadingListedRun: loadingRunState({
      id: 'loadListedRun',
      runId: (context) => listedRunId(context.world)!,
      onDone: { target: 'ready', actions: 'keepListedRun' },
      // Gone since the list was read: the world-run call answers the world's current run, as when the list names none.
      onError: [
        { guard: 'runIsGone', target: 'gettingWorldRun' },
        { target: 'error', actions: 'rememberFailure' },
      ],
    }),
    gettingWorldRun: gettingWorldRunState({
      onDone: [
        { guard: 'worldRunCameWithRun', target: 'ready', actions: 'keepAnsweredWorldRun' },
        { target: 'loadingRun', actions: 'keepWorldRunId' },
      ],
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    replacingWorldRun: replacingWorldRunState({
      onDone: [
        { guard: 'worldRunCameWithRun', target: 'ready', actions: 'keepAnsweredWorldRun' },
        { target: 'loadingRun', actions: 'keepWorldRunId' },
      ],
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    loadingRun: loadingRunState({
      runId: (context) => context.worldRun!.runId,
      onDone: { target: 'ready', actions: 'keepWorldRun' },
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    ready: readyState,
    error: errorState,
  },
});

/**
 * The registry entry of multiplayer. Its only option is `selfAssign` (Epicenter v3); it does its own
 * `userId` check, with the original's message, instead of `requiresAuth`.
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
