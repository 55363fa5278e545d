/**
 * Model-based paths of reuse-last-initialized: reuse the newest initialised run, or create,
 * initialise and flag one; a failed init or flag trashes the half-made run (`compensating`); a lost
 * create answer is recovered (`recovering`, the find-created-run search, finds the unflagged run it
 * made, or reports the create's failure), and a later getRun of the same manager looks for that run
 * first (`findingHalfMadeRun`) — replayed against the real Run API client.
 */
import {
  prepareReuseLastInitializedOptions,
  reuseLastInitializedMachine,
} from '../../src/machines/strategies/reuse-last-initialized.machine.js';
import { createStrategyModel, placeholderServices } from '../../src/testing/index.js';
import type { Run } from '../../src/types.js';
import { createdRun, session } from './support/fixtures.js';
import { done, errors, failed, http, QUERY, queried, requestFailures, responses, runPath, type ModelItem } from './support/http-script.js';
import { createFailures, findCreatedRunOutcomes } from './support/recovery.js';
import { liveServices, modelSuite } from './support/suite.js';
import { quickFindCreatedRun } from '../helpers/fake-services.js';

const initializedRun: Run = { ...createdRun, id: 'r-init', isInitComplete: true };
const flaggedRun: Run = { ...createdRun, isInitComplete: true };
const trashedHalfMade: Run = { ...createdRun, saved: false, trashed: true };
const created = runPath(`${createdRun.id}/`);
const initOperation = runPath(`${createdRun.id}/operations/init/`);

const options = { ...prepareReuseLastInitializedOptions({ initOperation: 'init' }) };

const model = createStrategyModel<ModelItem>(reuseLastInitializedMachine, {
  input: { session, options },
  inputs: {
    // The manager's previous resolution lost a create's answer: look for its run before creating.
    'getRun (create in doubt)': {
      mode: 'getRun',
      config: { account: 'acme', project: 'sim', model: 'model.py' },
      session,
      cachedRun: undefined,
      options,
      createOptions: undefined,
      services: placeholderServices(),
      createInDoubt: true,
    },
  },
  outcomes: {
    fetchLatest: [
      queried('none initialised', [], 0),
      queried('initialised run', [initializedRun], 1),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    createRun: [done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })), ...createFailures],
    // The run the lost create made carries no flag yet.
    findCreatedRun: findCreatedRunOutcomes(createdRun),
    findHalfMadeRun: [
      queried('half-made run', [createdRun], 1),
      queried('nothing half-made', [], 0),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    runInitOperations: [
      done('initialised', [{ result: 'ok' }], http('POST', initOperation, { status: 200, json: { result: 'ok' } })),
      failed('500', errors.serverError(), http('POST', initOperation, responses.serverError)),
    ],
    saveFlag: [
      done('flagged', flaggedRun, http('PATCH', created, { status: 200, json: flaggedRun })),
      ...requestFailures('PATCH', created, ['unavailable']),
    ],
    trashRun: [
      done('trashed', trashedHalfMade, http('PATCH', created, { status: 200, json: trashedHalfMade })),
      ...requestFailures('PATCH', created, ['unavailable']),
    ],
  },
});

// The search waits between looks on its own timer: 1 ms, not 200 ms and up.
const quick = reuseLastInitializedMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

modelSuite('reuse-last-initialized', model, (h, script, path) => ({
  machine: quick,
  input: { ...(path.input as object), services: liveServices(h, script) },
}));
