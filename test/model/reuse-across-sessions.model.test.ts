/**
 * Model-based paths of reuse-across-sessions: the newest run reusable, trashed or missing, the
 * query failing, and a create whose answer is lost (dropped connection, truncated 2xx body):
 * `recovering` finds the run it made, or waits (`waitingToRecover`, the actor's own `recoveryDelay`
 * timer) and looks again, up to 3 more times, before it reports the create's failure — replayed
 * against the real Run API client.
 */
import { reuseAcrossSessionsMachine } from '../../src/machines/strategies/reuse-across-sessions.machine.js';
import { createStrategyModel } from '../../src/testing/index.js';
import { createdRun, existingRun, session, trashedRun } from './support/fixtures.js';
import { done, http, QUERY, queried, requestFailures, runPath, type ModelItem } from './support/http-script.js';
import { createFailures, failingLook } from './support/recovery.js';
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
    createRun: [done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })), ...createFailures],
    findCreatedRun: [queried('found the new run', [createdRun], 2), queried('nothing new', [], 0), ...failingLook],
  },
});

// The replay waits for the actor's own recoveryDelay timer at every `after: recoveryDelay` step: 1 ms, not 200 ms and up.
const quick = reuseAcrossSessionsMachine.provide({ delays: { recoveryDelay: 1 } });

modelSuite('reuse-across-sessions', model, (h, script, path) => ({
  machine: quick,
  input: { ...(path.input as object), services: liveServices(h, script) },
}));
