/**
 * Model-based paths of reuse-across-sessions: the newest run reusable, trashed or missing, the
 * query failing, and a create whose answer is lost (`recovering` finds the run it made, or not) —
 * replayed against the real Run API client.
 */
import { reuseAcrossSessionsMachine } from '../../src/machines/strategies/reuse-across-sessions.machine.js';
import { createStrategyModel } from '../../src/testing/index.js';
import { createdRun, existingRun, session, trashedRun } from './support/fixtures.js';
import { done, http, QUERY, queried, requestFailures, runPath, type ModelItem } from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';

const model = createStrategyModel<ModelItem>(reuseAcrossSessionsMachine, {
  input: { session, options: { filter: {} } },
  outcomes: {
    fetchLatest: [
      queried('empty', [], 0),
      queried('newest trashed', [trashedRun], 1),
      queried('reusable', [existingRun], 1),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    createRun: [done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })), ...requestFailures('POST', runPath())],
    findCreatedRun: [queried('found the new run', [createdRun], 2), queried('nothing new', [], 0), ...requestFailures('GET', QUERY, ['unavailable'])],
  },
});

modelSuite('reuse-across-sessions', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }));
