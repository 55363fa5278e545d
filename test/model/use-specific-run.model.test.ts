/**
 * Model-based paths of use-specific-run: the named run found, gone (404) or unreachable (503),
 * and reset (not supported, no request) — replayed against the real Run API client.
 */
import { useSpecificRunMachine } from '../../src/machines/strategies/use-specific-run.machine.js';
import { createStrategyModel } from '../../src/testing/index.js';
import { existingRun, session } from './support/fixtures.js';
import { done, http, requestFailures, runPath, type ModelItem } from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';

const load = runPath(`${existingRun.id}/`);
const model = createStrategyModel<ModelItem>(useSpecificRunMachine, {
  input: { session, options: { runId: existingRun.id } },
  outcomes: {
    loadRun: [
      done('found', existingRun, http('GET', load, { status: 200, json: existingRun })),
      ...requestFailures('GET', load, ['notFound', 'unavailable']),
    ],
  },
});

modelSuite('use-specific-run', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }));
