/**
 * Model-based paths of reuse-by-tracking-key on Epicenter v3: settings (unlimited, limited, without
 * tracking key, throwing), reuse (`run.trackingKey=tk` in the filter), the run limit on getRun and
 * on reset (reached, no `totalResults`), creates with and without `onCreate` (the tracking key is a
 * top-level field of the create), and a lost create answer (`recovering`), the lock failing, and
 * stops while the lock is held or awaited — replayed against the real v3 Run API client, with
 * scripted settings and `onCreate`.
 */
import { expect } from 'vitest';
import { reuseByTrackingKeyMachine } from '../../../src/machines/strategies/reuse-by-tracking-key.machine.js';
import type { TrackingKeyOptions } from '../../../src/machines/strategies/tracking-key.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../../src/testing/index.js';
import type { Run } from '../../../src/types.js';
import { quickFindCreatedRun } from '../../helpers/fake-services.js';
import { config, createdRun } from '../support/fixtures.js';
import { asV3Run, queriedV3, sessionV3 } from '../support/fixtures-v3.js';
import { done, doneFrom, failed, http, QUERY, requestFailures, returns, runPath, throws, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { lockEvents, scriptedCoordinator, stoppedWhileLocked } from '../support/lock.js';
import { createFailures, findCreatedRunOutcomesV3 } from '../support/recovery-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';
import { givenSettingsInputs, scriptedOptions, settingsOutcomes, trackingKeyModelOptions } from '../support/tracking-key.js';

const keyedRun: Run = { ...createdRun, id: 'r-keyed', scope: { group: 'g1', trackingKey: 'tk' } };
const replacement: Run = { id: 'r-replaced', model: createdRun.model };
const withOnCreate: StrategyInput<TrackingKeyOptions> = {
  mode: 'getRun',
  config,
  session: sessionV3,
  cachedRun: undefined,
  options: trackingKeyModelOptions(true),
  createOptions: undefined,
  services: placeholderServices(),
};

const model = createStrategyModel<ModelItem>(reuseByTrackingKeyMachine, {
  input: { session: sessionV3, options: trackingKeyModelOptions(false) },
  inputs: {
    'getRun (onCreate)': withOnCreate,
    'reset (onCreate)': { ...withOnCreate, mode: 'reset' },
    ...givenSettingsInputs(withOnCreate),
  },
  events: lockEvents,
  outcomes: {
    resolveSettings: settingsOutcomes,
    fetchLatest: [
      queriedV3('reusable', [keyedRun], 1),
      queriedV3('none', [], 0),
      queriedV3('no total', [], null),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    countRuns: [
      queriedV3('none yet', [], 0),
      queriedV3('2 already', [keyedRun], 2),
      queriedV3('no total', [], null),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    createRun: [done('created', asV3Run(createdRun), http('POST', runPath(), { status: 201, json: createdRun })), ...createFailures],
    findCreatedRun: findCreatedRunOutcomesV3(createdRun),
    runOnCreate: [
      doneFrom('keeps the run', (snapshot) => snapshot.context.run, [returns('onCreate', undefined)]),
      done('replaces the run', replacement, returns('onCreate', replacement)),
      failed('throws', new Error('onCreate failed'), throws('onCreate', new Error('onCreate failed'))),
    ],
  },
});

// The search waits between looks on its own timer: 1 ms, not 200 ms and up.
const quick = reuseByTrackingKeyMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

modelSuite(
  'reuse-by-tracking-key (v3)',
  model,
  (h, script, path) => {
    const input = path.input as StrategyInput<TrackingKeyOptions>;
    const { coordinator, locks } = scriptedCoordinator(script);
    return {
      machine: quick,
      input: { ...input, options: scriptedOptions(input, script), services: { ...liveServices(h, script), coordinator } },
      // Whether the path ended in ready or error, or was stopped waiting or holding: the lock is free.
      afterReplay: () => expect([locks.held, locks.waiting]).toEqual([0, 0]),
    };
  },
  { stopIn: stoppedWhileLocked, http: startModelHttpV3 },
);
