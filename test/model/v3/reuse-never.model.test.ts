/**
 * Model-based paths of reuse-never on Epicenter v3: replayed against the real v3 Run API client and
 * the scripted server in v3 mode (`POST run`, answered with a v3 record or a v3 fault).
 */
import { reuseNeverMachine } from '../../../src/machines/strategies/reuse-never.machine.js';
import { createStrategyModel } from '../../../src/testing/index.js';
import { createdRun } from '../support/fixtures.js';
import { asV3Run, sessionV3 } from '../support/fixtures-v3.js';
import { done, http, requestFailures, runPath, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';

const model = createStrategyModel<ModelItem>(reuseNeverMachine, {
  input: { session: sessionV3 },
  outcomes: {
    createRun: [
      done('created', asV3Run(createdRun), http('POST', runPath(), { status: 201, json: createdRun })),
      ...requestFailures('POST', runPath()),
    ],
  },
});

modelSuite('reuse-never (v3)', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }), {
  http: startModelHttpV3,
});
