/**
 * Model-based paths of reuse-by-tracking-key: settings (unlimited, limited, without tracking key,
 * throwing), reuse, the run limit on getRun and on reset (reached, no `Content-Range` total),
 * creates with and without `onCreate`, and a lost create answer (`recovering`: the find-created-run
 * search finds the run it made, or gives up and the create's failure stands), the lock failing, and
 * stops while the lock is held or awaited — replayed against the real Run API client, with scripted
 * settings and `onCreate`.
 */
import { expect } from 'vitest';
import { reuseByTrackingKeyMachine } from '../../src/machines/strategies/reuse-by-tracking-key.machine.js';
import type { TrackingKeyOptions } from '../../src/machines/strategies/tracking-key.js';
import type { StrategyInput } from '../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../src/testing/index.js';
import type { Run } from '../../src/types.js';
import { config, createdRun, session } from './support/fixtures.js';
import {
  done,
  doneFrom,
  failed,
  http,
  QUERY,
  queried,
  requestFailures,
  returns,
  runPath,
  throws,
  type ModelItem,
} from './support/http-script.js';
import { createFailures, findCreatedRunOutcomes } from './support/recovery.js';
import { lockEvents, scriptedCoordinator, stoppedWhileLocked } from './support/lock.js';
import { liveServices, modelSuite } from './support/suite.js';
import { givenSettingsInputs, scriptedOptions, settingsOutcomes, trackingKeyModelOptions } from './support/tracking-key.js';
import { quickFindCreatedRun } from '../helpers/fake-services.js';

const keyedRun: Run = { ...createdRun, id: 'r-keyed', scope: { group: 'g1', trackingKey: 'tk' } };
const replacement: Run = { id: 'r-replaced', model: createdRun.model };
const withOnCreate: StrategyInput<TrackingKeyOptions> = {
  mode: 'getRun',
  config,
  session,
  cachedRun: undefined,
  options: trackingKeyModelOptions(true),
  createOptions: undefined,
  services: placeholderServices(),
};

const model = createStrategyModel<ModelItem>(reuseByTrackingKeyMachine, {
  input: { session, options: trackingKeyModelOptions(false) },
  inputs: {
    'getRun (onCreate)': withOnCreate,
    'reset (onCreate)': { ...withOnCreate, mode: 'reset' },
    ...givenSettingsInputs(withOnCreate),
  },
  events: lockEvents,
  outcomes: {
    resolveSettings: settingsOutcomes,
    fetchLatest: [
      queried('reusable', [keyedRun], 1),
      queried('none', [], 0),
      queried('no total', [], null),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    countRuns: [
      queried('none yet', [], 0),
      queried('2 already', [keyedRun], 2),
      queried('no total', [], null),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    createRun: [done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })), ...createFailures],
    findCreatedRun: findCreatedRunOutcomes(createdRun),
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
  'reuse-by-tracking-key',
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
  { stopIn: stoppedWhileLocked },
);
