/**
 * reuse-by-tracking-key-multiplayer: the current run of the user's world, tagged with the tracking
 * key the settings name; a run the world creates gets the tracking key (and `onCreate`), within an
 * optional run limit per world and tracking key. Reset gives the world a new run (within the limit).
 */
import { assign, setup } from 'xstate';
import { literal } from '../../services/filter.js';
import { isRunManagerError, type RunManagerError } from '../../errors.js';
import type { RunQueryResult, WorldRunId } from '../../services/api-types.js';
import type { Run, RunFilter, World } from '../../types.js';
import { holdLock, type LockEvent } from '../lock.js';
import { fetchLatest, findWorld, getWorldRun, loadRun, replaceWorldRun } from './actors.js';
import { deepMerge, doneOutput, sessionFilter, startingContext, strategyOutput, thrownBy } from './shared.js';
import { errorState, isReset, loadingRunState, readyState, rememberFailure, runIsGone } from './states.js';
import {
  applySettings,
  attachSettings,
  checkingLimitState,
  countingRunsState,
  givenSettingsLackTrackingKey,
  isLimited,
  keepGivenSettings,
  keepSettings,
  limitGuards,
  prepareTrackingKeyOptions,
  rememberLimitReached,
  rememberLimitUncheckable,
  rememberLockFailure,
  rememberNoTrackingKey,
  rememberSettingsFailure,
  resolveSettings,
  settingsAreComputed,
  settingsLackTrackingKey,
  settingsStates,
  TRACKING_KEY_OPTION_KEYS,
  trackingKeyCreateParams,
  trackingKeyLock,
  type TrackingKeyOptions,
} from './tracking-key.js';
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
import type { ReuseByTrackingKeyMultiplayerStrategyOptions } from '../../strategy-options.js';

/** Context of {@link reuseByTrackingKeyMultiplayerMachine}. */
export interface ReuseByTrackingKeyMultiplayerContext extends StrategyInput<TrackingKeyOptions> {
  /** The resolved settings (a copy), once `checkingSettings` (an object) or `resolvingSettings` (a function) is done. */
  settings: Record<string, unknown> | null;
  trackingKey: string;
  /** `Infinity` when there is no limit. */
  runLimit: number;
  world: World | null;
  /** The `Content-Range` total of the run count (`null` when unknown). */
  total: number | null;
  /** The answer of the world-run call: the run id and whether the server created it now (201). */
  worldRun: WorldRunId | null;
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The filter that counts the world's runs with this tracking key: `scope.trackingKey`,
 * `scope.worldId`, the strategy filter (with `trashed: false`), the configured scope and the session
 * group. No `user.id`: a world's runs belong to all its users, so the limit is per world.
 */
export function worldTrackingKeyFilter(context: ReuseByTrackingKeyMultiplayerContext): RunFilter {
  return sessionFilter(
    deepMerge<RunFilter>(
      { scope: { trackingKey: literal(context.trackingKey), worldId: context.world ? literal(context.world.id) : undefined } },
      context.options.filter ?? { trashed: false },
    ),
    context.config,
    context.session,
    { user: false },
  );
}

/** The lock of "this world's runs with this tracking key": what the world's run limit counts. */
export function worldTrackingKeyLockName(context: ReuseByTrackingKeyMultiplayerContext): string {
  return `run-lifecycle:tracking-key:${context.config.account}/${context.config.project}:${context.trackingKey}:world:${context.world?.id ?? ''}`;
}

/**
 * The reuse-by-tracking-key-multiplayer statechart.
 * getRun, when the world list names the world's current run (`world.run`):
 * `checkingSession → checkingSettings → [resolvingSettings] → findingWorld → locked.waitingForLock →
 * locked.loadingListedRun → ready`, that run reused without the world-run call (which would only
 * answer the same id) and without a count (nothing is created).
 * getRun, when the list names none: `checkingSession → checkingSettings → [resolvingSettings] → findingWorld →
 * locked.waitingForLock → [locked.countingRuns → locked.checkingLimit] → locked.gettingWorldRun →
 * locked.loadingRun → [locked.applyingSettings] → ready`; the runs are counted only when a limit is
 * set (the world-run call will create one). When the named run answers 404 (gone since the list was
 * read), `locked.loadingListedRun` goes on to `locked.gettingWorldRun` the same way, through
 * `locked.countingRuns → locked.checkingLimit` when a limit is set, since the world-run call may
 * then create.
 * reset: `checkingSession → checkingSettings → [resolvingSettings] → findingWorld → locked.waitingForLock →
 * [locked.countingRuns → locked.checkingLimit] → locked.replacingWorldRun → locked.loadingRun →
 * locked.applyingSettings → ready`.
 * Only a settings function is resolved (`resolvingSettings`); a settings object is taken as it is.
 * On Epicenter v3 the world-run call answers the whole run: `locked.loadingRun` is skipped.
 * A created run gets the tracking key (`PATCH` when the server did not set it) and `onCreate`; every
 * run, reused ones too, gets `settings` and `world`. No `userId` fails `UNAUTHORIZED` before any
 * request; no world fails `NO_WORLD_FOR_USER` (never a TypeError).
 */
export const reuseByTrackingKeyMultiplayerMachine = setup({
  types: {
    context: {} as ReuseByTrackingKeyMultiplayerContext,
    input: {} as StrategyInput<TrackingKeyOptions>,
    output: {} as StrategyOutput,
    events: {} as LockEvent,
    children: {} as {
      resolveSettings: 'resolveSettings';
      findWorld: 'findWorld';
      lock: 'holdLock';
      countRuns: 'fetchLatest';
      getWorldRun: 'getWorldRun';
      replaceWorldRun: 'replaceWorldRun';
      loadListedRun: 'loadRun';
      loadRun: 'loadRun';
      applySettings: 'applySettings';
    },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { resolveSettings, findWorld, holdLock, fetchLatest, getWorldRun, replaceWorldRun, loadRun, applySettings },
  guards: {
    isReset,
    lacksUser,
    settingsAreComputed,
    givenSettingsLackTrackingKey,
    settingsLackTrackingKey,
    foundNoWorld,
    // Only a call that may create a run needs the count: a reset, or a world without a current run.
    needsCount: ({ context }) => isLimited(context.runLimit) && (context.mode === 'reset' || listedRunId(context.world) === undefined),
    worldNamesRun: ({ context }) => listedRunId(context.world) !== undefined,
    runIsGone,
    // The world's named run is gone, so the world-run call may create one: the limit must be checked first.
    runIsGoneUnderLimit: ({ context, event }) => isLimited(context.runLimit) && isRunManagerError(thrownBy(event), 'RUN_NOT_FOUND'),
    ...limitGuards,
    wasCreated: ({ context }) => context.mode === 'reset' || context.worldRun?.freshlyCreated === true,
    worldRunCameWithRun,
    answeredCreatedRun: ({ event }) => {
      const answer = doneOutput<WorldRunId>(event);
      return answer.run !== undefined && answer.freshlyCreated;
    },
  },
  actions: {
    rememberNoUser: rememberNoUser(),
    keepGivenSettings: keepGivenSettings(),
    keepSettings: keepSettings(),
    rememberNoTrackingKey: rememberNoTrackingKey(),
    rememberSettingsFailure: rememberSettingsFailure(),
    rememberNoWorld: rememberNoWorld(),
    keepWorld: keepWorld(),
    rememberLockFailure: rememberLockFailure(),
    rememberTotal: assign(({ event }) => ({ total: doneOutput<RunQueryResult>(event).total })),
    rememberLimitUncheckable: rememberLimitUncheckable(),
    rememberLimitReached: rememberLimitReached(),
    keepWorldRunId: keepWorldRunId(),
    keepAnsweredCreatedRun: assign(({ context, event }) => {
      const answer = doneOutput<WorldRunId>(event);
      return { worldRun: answer, run: worldRun(answer.run!, context.world, true) };
    }),
    keepAnsweredReusedRun: assign(({ context, event }) => {
      const answer = doneOutput<WorldRunId>(event);
      return { worldRun: answer, run: attachSettings(worldRun(answer.run!, context.world, false), context.settings) };
    }),
    // Settings are attached once `applyingSettings` has tagged the run and run onCreate.
    keepCreatedWorldRun: assign(({ context, event }) => ({ run: worldRun(doneOutput<Run>(event), context.world, true) })),
    keepReusedWorldRun: assign(({ context, event }) => ({
      run: attachSettings(worldRun(doneOutput<Run>(event), context.world, false), context.settings),
    })),
    keepCreatedWorldRunWithSettings: assign(({ context, event }) => ({
      run: attachSettings(worldRun(doneOutput<Run>(event), context.world, true), context.settings),
    })),
    rememberFailure: rememberFailure(),
  },
}).createMachine({
  id: 'reuse-by-tracking-key-multiplayer',
  context: ({ input }) =>
    startingContext(
      {
        settings: null,
        trackingKey: '',
        runLimit: Infinity,
        world: null,
        total: null,
        worldRun: null,
        run: null,
        error: null,
      },
      input,
    ),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: checkingSessionState('checkingSettings'),
    ...settingsStates('findingWorld'),
    findingWorld: findingWorldState({
      onDone: [
        { guard: 'foundNoWorld', target: 'error', actions: 'rememberNoWorld' },
        { target: 'locked', actions: 'keepWorld' },
      ],
      onError: { target: 'error', actions: 'rememberFailure' },
    }),
    // The count and the world-run call that may create a run (and tagging it with the tracking key,
    // which makes the count see it) hold the lock of this world's tracking key, so two managers
    // never both pass the limit.
    locked: {
      invoke: trackingKeyLock(worldTrackingKeyLockName),
      initial: 'waitingForLock',
      states: {
        waitingForLock: {
          tags: 'busy',
          on: {
            LOCK_ACQUIRED: [
              { guard: 'needsCount', target: 'countingRuns' },
              { guard: 'isReset', target: 'replacingWorldRun' },
              { guard: 'worldNamesRun', target: 'loadingListedRun' },
              { target: 'gettingWorldRun' },
            ],
            LOCK_FAILED: { target: '#reuse-by-tracking-key-multiplayer.error', actions: 'rememberLockFailure' },
          },
        },
        // Under the lock, so a run another manager of this world has just created is read once its
        // tracking key and onCreate are in place.
        loadingListedRun: loadingRunState({
          id: 'loadListedRun',
          runId: (context) => listedRunId(context.world)!,
          onDone: { target: '#reuse-by-tracking-key-multiplayer.ready', actions: 'keepReusedWorldRun' },
          onError: [
            { guard: 'runIsGoneUnderLimit', target: 'countingRuns' },
            { guard: 'runIsGone', target: 'gettingWorldRun' },
            { target: '#reuse-by-tracking-key-multiplayer.error', actions: 'rememberFailure' },
          ],
        }),
        countingRuns: countingRunsState({
          filter: worldTrackingKeyFilter,
          onDone: { target: 'checkingLimit', actions: 'rememberTotal' },
          onError: { target: '#reuse-by-tracking-key-multiplayer.error', actions: 'rememberFailure' },
        }),
        checkingLimit: checkingLimitState(
          '#reuse-by-tracking-key-multiplayer.error',
          { guard: 'isReset', target: 'replacingWorldRun' },
          { target: 'gettingWorldRun' },
        ),
        gettingWorldRun: gettingWorldRunState({
          params: (context) => trackingKeyCreateParams(context.config, context.session, context.trackingKey, context.createOptions),
          onDone: [
            { guard: 'answeredCreatedRun', target: 'applyingSettings', actions: 'keepAnsweredCreatedRun' },
            { guard: 'worldRunCameWithRun', target: '#reuse-by-tracking-key-multiplayer.ready', actions: 'keepAnsweredReusedRun' },
            { target: 'loadingRun', actions: 'keepWorldRunId' },
          ],
          onError: { target: '#reuse-by-tracking-key-multiplayer.error', actions: 'rememberFailure' },
        }),
        replacingWorldRun: replacingWorldRunState({
          params: (context) => trackingKeyCreateParams(context.config, context.session, context.trackingKey, context.createOptions),
          onDone: [
            // A reset always makes the run, so a whole-run answer is always a created one.
            { guard: 'worldRunCameWithRun', target: 'applyingSettings', actions: 'keepAnsweredCreatedRun' },
            { target: 'loadingRun', actions: 'keepWorldRunId' },
          ],
          onError: { target: '#reuse-by-tracking-key-multiplayer.error', actions: 'rememberFailure' },
        }),
        loadingRun: loadingRunState({
          runId: (context) => context.worldRun!.runId,
          onDone: [
            { guard: 'wasCreated', target: 'applyingSettings', actions: 'keepCreatedWorldRun' },
            { target: '#reuse-by-tracking-key-multiplayer.ready', actions: 'keepReusedWorldRun' },
          ],
          onError: { target: '#reuse-by-tracking-key-multiplayer.error', actions: 'rememberFailure' },
        }),
        applyingSettings: {
          tags: 'busy',
          invoke: {
            id: 'applySettings',
            src: 'applySettings',
            input: ({ context }) => ({
              services: context.services,
              run: context.run!,
              trackingKey: context.trackingKey,
              settings: context.settings ?? {},
              ...(context.options.onCreate ? { onCreate: context.options.onCreate } : {}),
            }),
            onDone: { target: '#reuse-by-tracking-key-multiplayer.ready', actions: 'keepCreatedWorldRunWithSettings' },
            onError: { target: '#reuse-by-tracking-key-multiplayer.error', actions: 'rememberFailure' },
          },
        },
      },
    },
    ready: readyState,
    error: errorState,
  },
});

/**
 * The registry entry of reuse-by-tracking-key-multiplayer: the options of reuse-by-tracking-key
 * (`settings`, `filter`, `onCreate`), validated by the same `prepareOptions`.
 */
export const reuseByTrackingKeyMultiplayerStrategy: StrategyDefinition<ReuseByTrackingKeyMultiplayerStrategyOptions, Run> = {
  name: 'reuse-by-tracking-key-multiplayer',
  machine: reuseByTrackingKeyMultiplayerMachine,
  requiresAuth: false,
  cachesRun: true,
  scopedBy: 'world',
  prepareOptions: prepareTrackingKeyOptions,
  optionKeys: [...TRACKING_KEY_OPTION_KEYS, 'selfAssign'],
};
