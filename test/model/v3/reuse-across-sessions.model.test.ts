/**
 * Model-based paths of reuse-across-sessions on Epicenter v3: the newest run reusable, hidden or
 * missing, the query failing, and a create whose answer is lost (dropped connection, truncated 2xx
 * body): `recovering` (the find-created-run search) finds the run it made, or reports the create's
 * failure — replayed against the real v3 Run API client (`GET run/GROUP/gk1/model.py?filter=…`
 * answered with a page, `POST run`).
 */
import { reuseAcrossSessionsMachine } from '../../../src/machines/strategies/reuse-across-sessions.machine.js';
import { createStrategyModel } from '../../../src/testing/index.js';
import { quickFindCreatedRun } from '../../helpers/fake-services.js';
import { createdRun, existingRun, trashedRun } from '../support/fixtures.js';
import { asV3Run, queriedV3, sessionV3 } from '../support/fixtures-v3.js';
import { done, http, QUERY, requestFailures, runPath, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { createFailures, findCreatedRunOutcomesV3 } from '../support/recovery-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';

const model = createStrategyModel<ModelItem>(reuseAcrossSessionsMachine, {
  input: { session: sessionV3, options: { filter: {} } },
  outcomes: {
    fetchLatest: [
      queriedV3('empty', [], 0),
      queriedV3('newest hidden', [trashedRun], 1),
      queriedV3('reusable', [existingRun], 1),
      ...requestFailures('GET', QUERY, ['unavailable']),
    ],
    createRun: [done('created', asV3Run(createdRun), http('POST', runPath(), { status: 201, json: createdRun })), ...createFailures],
    findCreatedRun: findCreatedRunOutcomesV3(createdRun),
  },
});

// The search waits between looks on its own timer: 1 ms, not 200 ms and up.
const quick = reuseAcrossSessionsMachine.provide({ actors: { findCreatedRun: quickFindCreatedRun } });

modelSuite(
  'reuse-across-sessions (v3)',
  model,
  (h, script, path) => ({ machine: quick, input: { ...(path.input as object), services: liveServices(h, script) } }),
  { http: startModelHttpV3 },
);
