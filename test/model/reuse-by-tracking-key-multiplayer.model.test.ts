/**
 * Model-based paths of reuse-by-tracking-key-multiplayer: no user, settings variants, no world,
 * the run the world list names (loaded directly; gone, so the world-run call follows), the run
 * limit (counted only when the world-run call would create), 201 vs 200 world runs, reset, tagging
 * a new run with the tracking key (PATCH) — replayed against the real World and Run API clients,
 * with scripted settings.
 */
import { expect } from 'vitest';
import { reuseByTrackingKeyMultiplayerMachine } from '../../src/machines/strategies/reuse-by-tracking-key-multiplayer.machine.js';
import type { TrackingKeyOptions } from '../../src/machines/strategies/tracking-key.js';
import type { StrategyInput } from '../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../src/testing/index.js';
import type { AnyMachineSnapshot } from 'xstate';
import type { Run } from '../../src/types.js';
import { config, session } from './support/fixtures.js';
import {
  doneFrom,
  errors,
  failed,
  http,
  QUERY,
  queried,
  requestFailures,
  responses,
  runPath,
  type ModelItem,
} from './support/http-script.js';
import { lockEvents, scriptedCoordinator, stoppedWhileLocked } from './support/lock.js';
import { liveServices, modelSuite } from './support/suite.js';
import { givenSettingsInputs, scriptedOptions, settingsOutcomes, trackingKeyModelOptions } from './support/tracking-key.js';
import {
  findWorldOutcomes,
  getWorldRunOutcomes,
  loadListedRunOutcomes,
  loadWorldRunOutcomes,
  replaceWorldRunOutcomes,
  TRACKED_WORLD_RUN_CARRIES_RUN,
} from './support/worlds.js';

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
const tagged = { id: 'r-world', scope: { group: 'g1', trackingKey: 'tk' } };
const needsTag = (snapshot: AnyMachineSnapshot) => (snapshot.context.run as Run).scope?.trackingKey !== snapshot.context.trackingKey;

const model = createStrategyModel<ModelItem>(reuseByTrackingKeyMultiplayerMachine, {
  input: { session, options: trackingKeyModelOptions(false) },
  inputs: { 'getRun (no user)': anonymous, ...givenSettingsInputs({ ...anonymous, session }) },
  events: lockEvents,
  outcomes: {
    resolveSettings: settingsOutcomes,
    findWorld: findWorldOutcomes(true),
    countRuns: [
      queried('none yet', [], 0),
      queried('2 already', [{ id: 'r-a' }], 2),
      queried('no total', [], null),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    loadListedRun: loadListedRunOutcomes,
    getWorldRun: getWorldRunOutcomes,
    replaceWorldRun: replaceWorldRunOutcomes,
    loadRun: loadWorldRunOutcomes(true),
    applySettings: [
      // The tracking key is PATCHed only onto a run that lacks it.
      doneFrom(
        'applied',
        (snapshot) => (needsTag(snapshot) ? { ...(snapshot.context.run as Run), ...tagged } : snapshot.context.run),
        (snapshot) => (needsTag(snapshot) ? [http('PATCH', PATCH_PATH, { status: 200, json: tagged })] : []),
      ),
      { ...failed('PATCH 503', errors.unavailable(), http('PATCH', PATCH_PATH, responses.unavailable)), when: needsTag },
    ],
  },
});

modelSuite(
  'reuse-by-tracking-key-multiplayer',
  model,
  (h, script, path) => {
    const input = path.input as StrategyInput<TrackingKeyOptions>;
    const { coordinator, locks } = scriptedCoordinator(script);
    return {
      input: { ...input, options: scriptedOptions(input, script), services: { ...liveServices(h, script), coordinator } },
      afterReplay: () => expect([locks.held, locks.waiting]).toEqual([0, 0]),
    };
  },
  { stopIn: stoppedWhileLocked, unreachable: TRACKED_WORLD_RUN_CARRIES_RUN },
);
