/**
 * Model-based paths of reuse-never, replayed against the real Run API client and a scripted server.
 */
import { reuseNeverMachine } from '../../src/machines/strategies/reuse-never.machine.js';
import { createStrategyModel } from '../../src/testing/index.js';
import { createdRun, session } from './support/fixtures.js';
import { done, http, requestFailures, runPath, type ModelItem } from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';

const model = createStrategyModel<ModelItem>(reuseNeverMachine, {
  input: { session },
  outcomes: {
    createRun: [
      done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })),
      ...requestFailures('POST', runPath()),
    ],
  },
});

modelSuite('reuse-never', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }));
