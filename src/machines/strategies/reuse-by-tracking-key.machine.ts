/**
 * reuse-by-tracking-key: reuse the newest run of this user with the tracking key the settings name;
 * create one when there is none, up to an optional run limit. Reset creates (within the limit).
 */
import { assign, setup } from 'xstate';
import { literal } from '../../services/filter.js';
import { toRunManagerError, type RunManagerError } from '../../errors.js';
import type { RunQueryResult } from '../../services/api-types.js';
import type { Run, RunFilter } from '../../types.js';
import { holdLock, type LockEvent } from '../lock.js';
import { createRun, fetchLatest } from './actors.js';
import {
  canLookAgain,
  createMayHaveHappened,
  deepMerge,
  failure,
  markRun,
  newestRunModifiers,
  recoveredRun,
  recoveryDelayMs,
  sessionFilter,
  strategyOutput,
  withVariables,
} from './shared.js';
import {
  attachSettings,
  isLimitReached,
  isLimitUncheckable,
  isLimited,
  limitUncheckableError,
  noTrackingKeyError,
  resolveSettings,
  runLimitReachedError,
  runOnCreate,
  trackingKeyCreateParams,
  trackingKeyOptions,
  type ResolvedSettings,
  type TrackingKeyOptions,
} from './tracking-key.js';
import type { StrategyDefinition, StrategyInput, StrategyOutput } from './types.js';

/** Context of {@link reuseByTrackingKeyMachine}. */
export interface ReuseByTrackingKeyContext extends StrategyInput<TrackingKeyOptions> {
  /** The resolved settings (a copy), once `resolvingSettings` is done. */
  settings: Record<string, unknown> | null;
  trackingKey: string;
  /** `Infinity` when there is no limit. */
  runLimit: number;
  /** The `Content-Range` total of the last query (`null` when unknown). */
  total: number | null;
  /** The newest run a query saw before creating (`null`: none; `undefined`: no query was sent). */
  newestBeforeCreate: string | null | undefined;
  /** How many times `recovering` has looked again after a wait (0 on its first look). */
  recoveryAttempt: number;
  run: Run | null;
  error: RunManagerError | null;
}

/**
 * The filter of "this user's runs with this tracking key": `scope.trackingKey`, the strategy filter
 * (with `trashed: false`), the configured scope, the session group and `user.id`.
 *
 * @example
 * ```ts
 * trackingKeyFilter(context); // { scope: { group: 'g1', trackingKey: 'tk1' }, trashed: false, 'user.id': 'u1' }
 * ```
 */
export function trackingKeyFilter(context: ReuseByTrackingKeyContext): RunFilter {
  return sessionFilter(
    deepMerge<RunFilter>({ scope: { trackingKey: literal(context.trackingKey) } }, context.options.filter ?? { trashed: false }),
    context.config,
    context.session,
  );
}

/**
 * The lock of "this user's runs with this tracking key" in this project: what the run limit counts
 * (the name leaves the model and group out, so it covers every query the limit could count).
 */
export function trackingKeyLockName(context: ReuseByTrackingKeyContext): string {
  return `run-lifecycle:tracking-key:${context.config.account}/${context.config.project}:${context.trackingKey}:user:${context.session.userId ?? ''}`;
}

/**
 * The reuse-by-tracking-key statechart.
 * getRun: `checkingSession → resolvingSettings → fetchingLatest → ready`, or when there is no
 * reusable run `→ checkingLimit → creating → [applyingSettings] → ready`.
 * reset: `checkingSession → resolvingSettings → [countingRuns → checkingLimit] → creating → [applyingSettings] → ready`.
 * The run limit is enforced on both paths (improvement 7): getRun uses the total of the query it
 * already sent; an unlimited reset sends no query; a limited one with no `Content-Range` total
 * fails `INVALID_RESPONSE` instead of creating past the limit.
 * When a create's answer is lost after a query (dropped connection, timeout, or a 2xx body that
 * cannot be read): `creating → recovering → [applyingSettings] → ready` with the new untrashed
 * newest run the create made; while it finds nothing or its query fails,
 * `recovering → waitingToRecover → recovering` waits (`recoveryDelay`: 200 ms, doubling) and looks
 * again, at most 3 more times (`RECOVERY_LOOKS_AGAIN`), then ends in `error` with the create's
 * own failure.
 *
 * @example
 * ```ts
 * const actor = createActor(reuseByTrackingKeyMachine, {
 *   input: { mode: 'getRun', config, session, cachedRun: undefined, createOptions: undefined, services,
 *            options: trackingKeyOptions({ settings: { trackingKey: 'week-1', runLimit: 3 } }) },
 * });
 * actor.start();
 * const output = (await toPromise(actor)) as StrategyOutput;
 * ```
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
      findCreatedRun: 'fetchLatest';
      runOnCreate: 'runOnCreate';
    },
    tags: {} as 'busy' | 'ready' | 'error',
  },
  actors: { resolveSettings, holdLock, fetchLatest, createRun, runOnCreate },
  delays: {
    recoveryDelay: ({ context }) => recoveryDelayMs(context.recoveryAttempt),
  },
  actions: {
    rememberLockFailure: assign((_, params: { error: RunManagerError }) => ({ error: params.error })),
    storeSettings: assign((_, params: ResolvedSettings) => ({
      settings: params.settings,
      trackingKey: params.trackingKey ?? '',
      runLimit: params.runLimit,
    })),
  },
  guards: {
    isReset: ({ context }) => context.mode === 'reset',
    lacksTrackingKey: (_, params: { trackingKey: string | null }) => !params.trackingKey,
    isLimitedReset: ({ context }) => context.mode === 'reset' && isLimited(context.runLimit),
    isReusable: (_, params: { run: Run | undefined }) => params.run !== undefined && params.run.trashed !== true,
    isLimitUncheckable: ({ context }) => isLimitUncheckable(context.runLimit, context.total),
    isLimitReached: ({ context }) => isLimitReached(context.runLimit, context.total),
    hasOnCreate: ({ context }) => context.options.onCreate !== undefined,
    canRecover: ({ context }, params: { error: unknown }) =>
      createMayHaveHappened(params.error) && context.newestBeforeCreate !== undefined,
    canLookAgain: ({ context }) => canLookAgain(context.recoveryAttempt),
    foundCreatedRun: ({ context }, params: { result: RunQueryResult }) =>
      recoveredRun(params.result, context.newestBeforeCreate ?? null) !== undefined,
    foundCreatedRunNeedingOnCreate: ({ context }, params: { result: RunQueryResult }) =>
      context.options.onCreate !== undefined && recoveredRun(params.result, context.newestBeforeCreate ?? null) !== undefined,
  },
}).createMachine({
  id: 'reuse-by-tracking-key',
  context: ({ input }) => ({
    ...input,
    settings: null,
    trackingKey: '',
    runLimit: Infinity,
    total: null,
    newestBeforeCreate: undefined,
    recoveryAttempt: 0,
    run: null,
    error: null,
  }),
  initial: 'checkingSession',
  output: ({ context }) => strategyOutput(context),
  states: {
    checkingSession: {
      tags: 'busy',
      always: { target: 'resolvingSettings' },
    },
    resolvingSettings: {
      tags: 'busy',
      invoke: {
        id: 'resolveSettings',
        src: 'resolveSettings',
        input: ({ context }) => ({
          services: context.services,
          settings: context.options.settings,
          session: context.session,
        }),
        onDone: [
          {
            guard: { type: 'lacksTrackingKey', params: ({ event }) => ({ trackingKey: event.output.trackingKey }) },
            target: 'error',
            actions: assign({ error: () => noTrackingKeyError() }),
          },
          { target: 'locked', actions: { type: 'storeSettings', params: ({ event }) => event.output } },
        ],
        onError: {
          target: 'error',
          actions: assign({ error: ({ event }) => toRunManagerError(event.error, 'INVALID_OPTIONS', 'settings') }),
        },
      },
    },
    // Everything that counts or creates runs under this tracking key holds the key's lock, so two
    // managers of one user (other session keys, other models) never both pass the limit or both create.
    locked: {
      invoke: {
        id: 'lock',
        src: 'holdLock',
        input: ({ context }) => ({ coordinator: context.services.coordinator, name: trackingKeyLockName(context) }),
      },
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
            LOCK_FAILED: { target: '#reuse-by-tracking-key.error', actions: { type: 'rememberLockFailure', params: ({ event }) => event } },
          },
        },
        fetchingLatest: {
          tags: 'busy',
          invoke: {
            id: 'fetchLatest',
            src: 'fetchLatest',
            input: ({ context }) => ({
              services: context.services,
              filter: trackingKeyFilter(context),
              modifiers: withVariables(newestRunModifiers('camel'), context.variables),
            }),
            onDone: [
              {
                guard: { type: 'isReusable', params: ({ event }) => ({ run: event.output.runs[0] }) },
                target: '#reuse-by-tracking-key.ready',
                actions: assign({
                  run: ({ context, event }) => attachSettings(markRun(event.output.runs[0]!, false), context.settings),
                }),
              },
              {
                target: 'checkingLimit',
                actions: assign({
                  total: ({ event }) => event.output.total,
                  newestBeforeCreate: ({ event }) => event.output.runs[0]?.id ?? null,
                }),
              },
            ],
            onError: { target: '#reuse-by-tracking-key.error', actions: assign({ error: ({ event }) => failure(event.error) }) },
          },
        },
        countingRuns: {
          tags: 'busy',
          invoke: {
            id: 'countRuns',
            src: 'fetchLatest',
            input: ({ context }) => ({
              services: context.services,
              filter: trackingKeyFilter(context),
              modifiers: newestRunModifiers('camel'),
            }),
            onDone: {
              target: 'checkingLimit',
              actions: assign({
                total: ({ event }) => event.output.total,
                newestBeforeCreate: ({ event }) => event.output.runs[0]?.id ?? null,
              }),
            },
            onError: { target: '#reuse-by-tracking-key.error', actions: assign({ error: ({ event }) => failure(event.error) }) },
          },
        },
        checkingLimit: {
          tags: 'busy',
          always: [
            {
              guard: 'isLimitUncheckable',
              target: '#reuse-by-tracking-key.error',
              actions: assign({ error: () => limitUncheckableError() }),
            },
            { guard: 'isLimitReached', target: '#reuse-by-tracking-key.error', actions: assign({ error: () => runLimitReachedError() }) },
            { target: 'creating' },
          ],
        },
        creating: {
          tags: 'busy',
          invoke: {
            id: 'createRun',
            src: 'createRun',
            input: ({ context }) => ({
              services: context.services,
              params: trackingKeyCreateParams(context.config, context.session, context.trackingKey, context.createOptions),
            }),
            onDone: [
              {
                guard: 'hasOnCreate',
                target: '#reuse-by-tracking-key.applyingSettings',
                actions: assign({ run: ({ event }) => markRun(event.output, true) }),
              },
              {
                target: '#reuse-by-tracking-key.ready',
                actions: assign({ run: ({ context, event }) => attachSettings(markRun(event.output, true), context.settings) }),
              },
            ],
            onError: [
              {
                guard: { type: 'canRecover', params: ({ event }) => ({ error: event.error }) },
                target: 'recovering',
                actions: assign({ error: ({ event }) => failure(event.error) }),
              },
              { target: '#reuse-by-tracking-key.error', actions: assign({ error: ({ event }) => failure(event.error) }) },
            ],
          },
        },
        recovering: {
          tags: 'busy',
          invoke: {
            id: 'findCreatedRun',
            src: 'fetchLatest',
            input: ({ context }) => ({
              services: context.services,
              filter: trackingKeyFilter(context),
              modifiers: newestRunModifiers('camel'),
            }),
            onDone: [
              {
                guard: { type: 'foundCreatedRunNeedingOnCreate', params: ({ event }) => ({ result: event.output }) },
                target: '#reuse-by-tracking-key.applyingSettings',
                actions: assign({
                  run: ({ context, event }) => markRun(recoveredRun(event.output, context.newestBeforeCreate ?? null)!, true),
                  error: null,
                }),
              },
              {
                guard: { type: 'foundCreatedRun', params: ({ event }) => ({ result: event.output }) },
                target: '#reuse-by-tracking-key.ready',
                actions: assign({
                  run: ({ context, event }) =>
                    attachSettings(markRun(recoveredRun(event.output, context.newestBeforeCreate ?? null)!, true), context.settings),
                  error: null,
                }),
              },
              // Nothing yet: the server may still be making the run; wait, then look again.
              { guard: 'canLookAgain', target: 'waitingToRecover' },
              // Nothing was made: report the create's own failure; a retry may create safely.
              { target: '#reuse-by-tracking-key.error' },
            ],
            // Still unreachable: wait and look again; after the last look keep the create's failure.
            onError: [{ guard: 'canLookAgain', target: 'waitingToRecover' }, { target: '#reuse-by-tracking-key.error' }],
          },
        },
        waitingToRecover: {
          tags: 'busy',
          // Backoff before looking again (recoveryDelay); stopping the actor cancels the wait.
          after: {
            recoveryDelay: {
              target: 'recovering',
              actions: assign({ recoveryAttempt: ({ context }) => context.recoveryAttempt + 1 }),
            },
          },
        },
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
        onDone: {
          target: 'ready',
          actions: assign({ run: ({ context, event }) => attachSettings(markRun(event.output, true), context.settings) }),
        },
        onError: {
          target: 'error',
          actions: assign({ error: ({ event }) => toRunManagerError(event.error, 'INVALID_RESPONSE', 'onCreate') }),
        },
      },
    },
    ready: { type: 'final', tags: 'ready' },
    error: { type: 'final', tags: 'error' },
  },
});

/**
 * The registry entry of reuse-by-tracking-key. `prepareOptions` validates `settings` (object or
 * function; the object's `trackingKey` and `runLimit`), `filter` and `onCreate`, and returns
 * {@link TrackingKeyOptions}.
 *
 * @example
 * ```ts
 * new RunManager({ run, strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'week-1', runLimit: 3 } } });
 * ```
 */
export const reuseByTrackingKeyStrategy: StrategyDefinition = {
  name: 'reuse-by-tracking-key',
  machine: reuseByTrackingKeyMachine,
  requiresAuth: false,
  cachesRun: true,
  prepareOptions: (strategyOptions) => ({ ...trackingKeyOptions(strategyOptions) }),
  optionKeys: ['settings', 'filter', 'onCreate'],
};
