/**
 * Model-based paths of reuse-by-tracking-key-multiplayer on Epicenter v3: no user, settings
 * variants, no world, the run the world list names (loaded directly; gone, so the world-run call
 * follows), the run limit (counted with `GET run/WORLD/w1/model.py?filter=run.trackingKey=tk;…`,
 * only when the world-run call would create), the world-run call answered with the whole run (201;
 * 200, which made the run when the listing named none), reset (`DELETE` + `POST`), tagging a run
 * that lacks the tracking key (`PATCH run/{runKey}` `{ trackingKey }`) — replayed against the real v3
 * World and Run API clients, with scripted settings.
 */
import { expect } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { reuseByTrackingKeyMultiplayerMachine } from '../../../src/machines/strategies/reuse-by-tracking-key-multiplayer.machine.js';
import type { TrackingKeyOptions } from '../../../src/machines/strategies/tracking-key.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../../src/testing/index.js';
import type { Run } from '../../../src/types.js';
import { config } from '../support/fixtures.js';
import { asV3Run, queriedV3, sessionV3 } from '../support/fixtures-v3.js';
import { doneFrom, errors, failed, http, QUERY, requestFailures, responses, runPath, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { lockEvents, scriptedCoordinator, stoppedWhileLocked } from '../support/lock.js';
import { liveServices, modelSuite } from '../support/suite.js';
import { givenSettingsInputs, scriptedOptions, settingsOutcomes, trackingKeyModelOptions } from '../support/tracking-key.js';
import { findWorldOutcomesV3, getWorldRunOutcomesV3, loadListedRunOutcomesV3, replaceWorldRunOutcomesV3 } from '../support/worlds-v3.js';

const anonymous: StrategyInput<TrackingKeyOptions> = {
  mode: 'getRun',
  config,
  session: {},
  cachedRun: undefined,
  options: trackingKeyModelOptions(false),
  createOptions: undefined,
  services: placeholderServices(),
};

const PATCH_PATH = runPath('r-world/');
/** The server's answer to tagging the world's run (v2 vocabulary; sent as a v3 record). */
const tagged: Run = { id: 'r-world', scope: { worldId: 'w1', trackingKey: 'tk' } };
const needsTag = (snapshot: AnyMachineSnapshot) => (snapshot.context.run as Run).scope?.trackingKey !== snapshot.context.trackingKey;

const model = createStrategyModel<ModelItem>(reuseByTrackingKeyMultiplayerMachine, {
  input: { session: sessionV3, options: trackingKeyModelOptions(false) },
  inputs: { 'getRun (no user)': anonymous, ...givenSettingsInputs({ ...anonymous, session: sessionV3 }) },
  events: lockEvents,
  outcomes: {
    resolveSettings: settingsOutcomes,
    findWorld: findWorldOutcomesV3(true),
    countRuns: [
      queriedV3('none yet', [], 0),
      queriedV3('2 already', [{ id: 'r-a' }], 2),
      queriedV3('no total', [], null),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    loadListedRun: loadListedRunOutcomesV3,
    getWorldRun: getWorldRunOutcomesV3(true),
    replaceWorldRun: replaceWorldRunOutcomesV3(true),
    // No loadRun: see below.
    applySettings: [
      // The tracking key is PATCHed only onto a run that lacks it.
      doneFrom(
        'applied',
        (snapshot) => (needsTag(snapshot) ? { ...(snapshot.context.run as Run), ...asV3Run(tagged) } : snapshot.context.run),
        (snapshot) => (needsTag(snapshot) ? [http('PATCH', PATCH_PATH, { status: 200, json: tagged })] : []),
      ),
      { ...failed('PATCH 503', errors.unavailable(), http('PATCH', PATCH_PATH, responses.unavailable)), when: needsTag },
    ],
  },
});

modelSuite(
  'reuse-by-tracking-key-multiplayer (v3)',
  model,
  (h, script, path) => {
    const input = path.input as StrategyInput<TrackingKeyOptions>;
    const { coordinator, locks } = scriptedCoordinator(script);
    return {
      input: { ...input, options: scriptedOptions(input, script), services: { ...liveServices(h, script), coordinator } },
      afterReplay: () => expect([locks.held, locks.waiting]).toEqual([0, 0]),
    };
  },
  {
    stopIn: stoppedWhileLocked,
    http: startModelHttpV3,
    unreachable: {
      // The v3 world-run call answers the whole run (its client refuses an answer without a runKey,
      // INVALID_RESPONSE), so one of the `answered…` guards always holds after it: the load of the
      // world's run that v2 needs never happens (the v2 suite covers `locked.loadingRun`).
      states: ['locked.loadingRun'],
      transitions: [
        'locked.gettingWorldRun --xstate.done.actor.getWorldRun--> locked.loadingRun',
        'locked.replacingWorldRun --xstate.done.actor.replaceWorldRun--> locked.loadingRun',
        'locked.loadingRun --xstate.done.actor.loadRun [wasCreated]--> locked.applyingSettings',
        'locked.loadingRun --xstate.done.actor.loadRun--> ready',
        'locked.loadingRun --xstate.error.actor.loadRun--> error',
      ],
      why: 'the v3 world-run call answers the whole run: nothing is left to load',
    },
  },
);
