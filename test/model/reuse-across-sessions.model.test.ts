/**
 * Model-based paths of reuse-across-sessions: the newest run reusable, trashed or missing, the
 * query failing, and a create whose answer is lost (dropped connection, truncated 2xx body):
 * `recovering` (the find-created-run search) finds the run it made, or reports the create's failure
 * — replayed against the real Run API client.
 */
import { reuseAcrossSessionsMachine } from '../../src/machines/strategies/reuse-across-sessions.machine.js';
import { createStrategyModel } from '../../src/testing/index.js';
import { createdRun, existingRun, session, trashedRun } from './support/fixtures.js';
import { done, http, QUERY, queried, requestFailures, runPath, type ModelItem } from './support/http-script.js';
import { createFailures, findCreatedRunOutcomes } from './support/recovery.js';
import { liveServices, modelSuite } from './support/suite.js';
import { quickFindCreatedRun } from '../helpers/fake-services.js';

const model = createStrategyModel<ModelItem>(reuseAcrossSessionsMachine, {
  input: { session, options: { filter: {} } },
  outcomes: {
    fetchLatest: [
      queried('empty', [], 0),
      queried('newest trashed', [trashedRun], 1),
      queried('reusable', [existingRun], 1),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    createRun: [done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })), ...createFailures],
    findCreatedRun: findCreatedRunOutcomes(createdRun),
  },
});

// The search waits between looks on its own timer: 1 ms, not 200 ms and up.
const quick = reuseAcrossSessionsMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

modelSuite('reuse-across-sessions', model, (h, script, path) => ({
  machine: quick,
  input: { ...(path.input as object), services: liveServices(h, script) },
}));
