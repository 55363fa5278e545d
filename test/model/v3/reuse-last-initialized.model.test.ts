/**
 * Model-based paths of reuse-last-initialized on Epicenter v3: reuse the newest initialised run
 * (`meta.isInitComplete=true`), or create, initialise (`POST run/operation/{runKey}`, a bare result)
 * and flag one (the flag is run metadata: `PATCH run/meta/{runKey}`, answered with the metadata
 * only); a failed init or flag hides the half-made run (`PATCH run/{runKey}` `{ hidden, marked }`,
 * `compensating`); a lost create answer is recovered (`recovering`), and a later getRun of the same
 * manager looks for that run first (`findingHalfMadeRun`) — replayed against the real v3 Run API client.
 */
import {
  prepareReuseLastInitializedOptions,
  reuseLastInitializedMachine,
} from '../../../src/machines/strategies/reuse-last-initialized.machine.js';
import { createStrategyModel, placeholderServices } from '../../../src/testing/index.js';
import type { Run } from '../../../src/types.js';
import { quickFindCreatedRun } from '../../helpers/fake-services.js';
import { createdRun } from '../support/fixtures.js';
import { asV3Run, queriedV3, sessionV3 } from '../support/fixtures-v3.js';
import { done, errors, failed, http, QUERY, requestFailures, responses, runPath, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { createFailures, findCreatedRunOutcomesV3 } from '../support/recovery-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';

const initializedRun: Run = { ...createdRun, id: 'r-init', isInitComplete: true };
const flaggedRun: Run = { ...createdRun, isInitComplete: true };
const trashedHalfMade: Run = { ...createdRun, saved: false, trashed: true };
const created = runPath(`${createdRun.id}/`);
const initOperation = runPath(`${createdRun.id}/operations/init/`);
/**
 * A save of metadata only answers the metadata: the client returns the run's id with it (the keys at
 * the top too), and the machine merges that into the run it created.
 */
const flagSaved: Run = { id: createdRun.id, metaData: { isInitComplete: true }, isInitComplete: true };

const options = { ...prepareReuseLastInitializedOptions({ initOperation: 'init' }) };

const model = createStrategyModel<ModelItem>(reuseLastInitializedMachine, {
  input: { session: sessionV3, options },
  inputs: {
    // The manager's previous resolution lost a create's answer: look for its run before creating.
    'getRun (create in doubt)': {
      mode: 'getRun',
      config: { account: 'acme', project: 'sim', model: 'model.py' },
      session: sessionV3,
      cachedRun: undefined,
      options,
      createOptions: undefined,
      services: placeholderServices(),
      createInDoubt: true,
    },
  },
  outcomes: {
    fetchLatest: [
      queriedV3('none initialised', [], 0),
      queriedV3('initialised run', [initializedRun], 1),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    createRun: [done('created', asV3Run(createdRun), http('POST', runPath(), { status: 201, json: createdRun })), ...createFailures],
    // The run the lost create made carries no flag yet.
    findCreatedRun: findCreatedRunOutcomesV3(createdRun),
    findHalfMadeRun: [
      queriedV3('half-made run', [createdRun], 1),
      queriedV3('nothing half-made', [], 0),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    runInitOperations: [
      // v3 answers the operation's bare value; the client wraps it as v2 did.
      done('initialised', [{ name: 'init', result: 'ok' }], http('POST', initOperation, { status: 200, json: { result: 'ok' } })),
      failed('500', errors.serverError(), http('POST', initOperation, responses.serverError)),
    ],
    saveFlag: [
      done('flagged', flagSaved, http('PATCH', created, { status: 200, json: flaggedRun })),
      ...requestFailures('PATCH', created, ['unavailable']),
    ],
    trashRun: [
      done('hidden', asV3Run(trashedHalfMade), http('PATCH', created, { status: 200, json: trashedHalfMade })),
      ...requestFailures('PATCH', created, ['unavailable']),
    ],
  },
});

// The search waits between looks on its own timer: 1 ms, not 200 ms and up.
const quick = reuseLastInitializedMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

modelSuite(
  'reuse-last-initialized (v3)',
  model,
  (h, script, path) => ({ machine: quick, input: { ...(path.input as object), services: liveServices(h, script) } }),
  { http: startModelHttpV3 },
);
