/**
 * reuse-by-tracking-key: this user's newest run with the tracking key the settings name, else a new
 * one up to an optional run limit. Reset creates (within the limit).
 */
import { assign, setup } from 'xstate';
import { literal } from '../../services/filter.js';
import { toRunManagerError, type RunManagerError } from '../../errors.js';
import type { RunQueryResult } from '../../services/api-types.js';
import type { Run, RunFilter } from '../../types.js';
import { holdLock, type LockEvent } from '../lock.js';
import { createRun, fetchLatest } from './actors.js';
import { findCreatedRunMachine } from './find-created-run.machine.js';
import {
  createMayHaveHappened,
  deepMerge,
  doneOutput,
  markRun,
  sessionFilter,
  startingContext,
  strategyOutput,
  thrownBy,
} from './shared.js';
import {
  creatingState,
  errorState,
  fetchingLatestState,
  foundCreatedRun,
  isReset,
  keepCreatedRun,
  readyState,
  recoveringState,
  rememberFailure,
} from './states.js';
import {
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
  runOnCreate,
  settingsAreComputed,
  settingsLackTrackingKey,
  settingsStates,
  TRACKING_KEY_OPTION_KEYS,
  trackingKeyCreateParams,
  trackingKeyLock,
  type TrackingKeyOptions,
} from './tracking-key.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';
import type { ReuseByTrackingKeyStrategyOptions } from '../../strategy-options.js';

export interface ReuseByTrackingKeyContext extends StrategyInput<TrackingKeyOptions> {
  /** A copy, once `checkingSettings` (an object) or `resolvingSettings` (a function) is done. */
  settings: Record<string, unknown> | null;
  trackingKey: string;
  /** `Infinity` when there is no limit. */
  runLimit: number;
  /** The last query's `Content-Range` total (`null` when unknown). */
  total: number | null;
  /** The newest run before creating (`null`: none; `undefined`: no query was sent). */
  newestBeforeCreate: string | null | undefined;
  run: Run | null;
  error: RunManagerError | null;
}

/** This user's runs with this tracking key; every query and the lost-create search use it, so what the strategy creates it finds again. */
export function trackingKeyFilter(context: ReuseByTrackingKeyContext): RunFilter {
  return sessionFilter(
    deepMerge<RunFilter>({ scope: { trackingKey: literal(context.trackingKey) } }, context.options.filter ?? { trashed: false }),
    context.config,
    context.session,
  );
}

/** Names what the run limit counts; it leaves the model and group out so it covers every query the limit could count. */
export function trackingKeyLockName(context: ReuseByTrackingKeyContext): string {
  return `run-lifecycle:tracking-key:${context.config.account}/${context.config.project}:${context.trackingKey}:user:${context.session.userId ?? ''}`;
}

/**
 * The reuse-by-tracking-key statechart.
 * getRun: `checkingSettings → [resolvingSettings] → locked.waitingForLock → locked.fetchingLatest →
 * ready`, or when there is no reusable run `→ locked.checkingLimit → locked.creating →
 * [applyingSettings] → ready`; only a settings function is resolved (`resolvingSettings`), an object
 * is taken as it is.
 * reset: `checkingSettings → [resolvingSettings] → locked.waitingForLock → [locked.countingRuns →
 * locked.checkingLimit] → locked.creating → [applyingSettings] → ready`.
 * The run limit holds on both paths: getRun uses the total of the query it already sent, an
 * unlimited reset sends no query, and a limited one whose answer has no `Content-Range` total fails
 * `INVALID_RESPONSE` rather than risk creating past the limit.
 * When a create's answer is lost after a query, `locked.recovering` looks for the run it made:
 * found, `→ [applyingSettings] → ready`; not found, `→ error` with the create's own failure.
 */
export const reuseByTrackingKeyMachine = setup({
  types: {
    context: {} as ReuseByTrackingKeyContext,
    input: {} as StrategyInput<TrackingKeyOptions>,
    output: {} as StrategyOutput,
    events: {} as LockEvent,
    children: {} as {
      resolveSettings: 'resolveSettings';
      lock: 'holdLock';
      fetchLatest: 'fetchLatest';
      countRuns: 'fetchLatest';
      createRun: 'createRun';
      findCreatedRun: 'findCreatedRun';
      runOnCreate: 'runOnCreate';
    },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { resolveSettings, holdLock, fetchLatest, createRun, findCreatedRun: findCreatedRunMachine, runOnCreate },
  guards: {
    isReset,
    isLimitedReset: ({ context }) => context.mode === 'reset' && isLimited(context.runLimit),
    settingsAreComputed,
    givenSettingsLackTrackingKey,
    settingsLackTrackingKey,
    foundReusableRun: ({ event }) => {
      const newest = doneOutput<RunQueryResult>(event).runs[0];
      return newest !== undefined && newest.trashed !== true;
    },
    ...limitGuards,
    hasOnCreate: ({ context }) => context.options.onCreate !== undefined,
    // Only after a query: its newest run tells a run the create made from one that was there before.
    mayHaveBeenCreated: ({ context, event }) => createMayHaveHappened(thrownBy(event)) && context.newestBeforeCreate !== undefined,
    foundCreatedRun,
    foundCreatedRunNeedingOnCreate: ({ context, event }) =>
      context.options.onCreate !== undefined && doneOutput<Run | null>(event) !== null,
  },
  actions: {
    keepGivenSettings: keepGivenSettings(),
    keepSettings: keepSettings(),
    rememberNoTrackingKey: rememberNoTrackingKey(),
    rememberSettingsFailure: rememberSettingsFailure(),
    rememberLockFailure: rememberLockFailure(),
    keepReusedRun: assign(({ context, event }) => ({
      run: attachSettings(markRun(doneOutput<RunQueryResult>(event).runs[0]!, false), context.settings),
    })),
    // The newest run tells a run a lost create made from one already there.
    rememberCountAndNewest: assign(({ event }) => {
      const result = doneOutput<RunQueryResult>(event);
      return { total: result.total, newestBeforeCreate: result.runs[0]?.id ?? null };
    }),
    rememberLimitUncheckable: rememberLimitUncheckable(),
    rememberLimitReached: rememberLimitReached(),
    // Settings are attached after onCreate, which may replace the run.
    keepCreatedRun: keepCreatedRun(),
    keepCreatedRunWithSettings: assign(({ context, event }) => ({
      run: attachSettings(markRun(doneOutput<Run>(event), true), context.settings),
      error: null,
    })),
    rememberFailure: rememberFailure(),
    rememberOnCreateFailure: assign(({ event }) => ({ error: toRunManagerError(thrownBy(event), 'INVALID_RESPONSE', 'onCreate') })),
  },
}).createMachine({
  id: 'reuse-by-tracking-key',
  context: ({ input }) =>
    startingContext(
      {
        settings: null,
        trackingKey: '',
        runLimit: Infinity,
        total: null,
        newestBeforeCreate: undefined,
        run: null,
        error: null,
      },
      input,
    ),
  initial: 'checkingSettings',
  output: ({ context }) => strategyOutput(context),
  states: {
    ...settingsStates('locked'),
    // Everything that counts or creates runs under this tracking key holds the key's lock, so two
    // managers of one user (other session keys, other models) never both pass the limit or both
    // create. `recovering` holds it too: a lost create may still land and count against the limit.
    locked: {
      invoke: trackingKeyLock(trackingKeyLockName),
      initial: 'waitingForLock',
      states: {
        waitingForLock: {
          tags: 'busy',
          on: {
            LOCK_ACQUIRED: [
              { guard: 'isLimitedReset', target: 'countingRuns' },
              { guard: 'isReset', target: 'creating' },
              { target: 'fetchingLatest' },
            ],
            LOCK_FAILED: { target: '#reuse-by-tracking-key.error', actions: 'rememberLockFailure' },
          },
        },
        fetchingLatest: fetchingLatestState({
          filter: trackingKeyFilter,
          spelling: 'camel',
          onDone: [
            { guard: 'foundReusableRun', target: '#reuse-by-tracking-key.ready', actions: 'keepReusedRun' },
            { target: 'checkingLimit', actions: 'rememberCountAndNewest' },
          ],
          onError: { target: '#reuse-by-tracking-key.error', actions: 'rememberFailure' },
        }),
        countingRuns: countingRunsState({
          filter: trackingKeyFilter,
          onDone: { target: 'checkingLimit', actions: 'rememberCountAndNewest' },
          onError: { target: '#reuse-by-tracking-key.error', actions: 'rememberFailure' },
        }),
        checkingLimit: checkingLimitState('#reuse-by-tracking-key.error', { target: 'creating' }),
        creating: creatingState({
          params: (context) => trackingKeyCreateParams(context.config, context.session, context.trackingKey, context.createOptions),
          onDone: [
            { guard: 'hasOnCreate', target: '#reuse-by-tracking-key.applyingSettings', actions: 'keepCreatedRun' },
            { target: '#reuse-by-tracking-key.ready', actions: 'keepCreatedRunWithSettings' },
          ],
          onError: [
            { guard: 'mayHaveBeenCreated', target: 'recovering', actions: 'rememberFailure' },
            { target: '#reuse-by-tracking-key.error', actions: 'rememberFailure' },
          ],
        }),
        recovering: recoveringState({
          filter: trackingKeyFilter,
          rule: (context) => ({ kind: 'newerThan', newestBeforeCreate: context.newestBeforeCreate ?? null }),
          spelling: 'camel',
          // Found: the create went through (and still gets onCreate). Not found: its failure stands.
          onDone: [
            { guard: 'foundCreatedRunNeedingOnCreate', target: '#reuse-by-tracking-key.applyingSettings', actions: 'keepCreatedRun' },
            { guard: 'foundCreatedRun', target: '#reuse-by-tracking-key.ready', actions: 'keepCreatedRunWithSettings' },
            { target: '#reuse-by-tracking-key.error' },
          ],
        }),
      },
    },
    applyingSettings: {
      tags: 'busy',
      invoke: {
        id: 'runOnCreate',
        src: 'runOnCreate',
        input: ({ context }) => ({
          services: context.services,
          onCreate: context.options.onCreate!,
          settings: context.settings ?? {},
          run: context.run!,
        }),
        onDone: { target: 'ready', actions: 'keepCreatedRunWithSettings' },
        onError: { target: 'error', actions: 'rememberOnCreateFailure' },
      },
    },
    ready: readyState,
    error: errorState,
  },
});

/** reuse-by-tracking-key's registry entry, e.g. `strategyOptions: { settings: { trackingKey: 'week-1', runLimit: 3 } }`. */
export const reuseByTrackingKeyStrategy: StrategyDefinition<ReuseByTrackingKeyStrategyOptions, Run> = {
  name: 'reuse-by-tracking-key',
  machine: reuseByTrackingKeyMachine,
  requiresAuth: false,
  cachesRun: true,
  scopedBy: 'group',
  prepareOptions: prepareTrackingKeyOptions,
  optionKeys: TRACKING_KEY_OPTION_KEYS,
};
