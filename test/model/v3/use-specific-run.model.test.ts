/**
 * Model-based paths of use-specific-run on Epicenter v3: the named run found, gone (404 fault) or
 * unreachable (503 fault), and reset (not supported, no request) — replayed against the real v3 Run
 * API client (`GET run/{runKey}`).
 */
import { useSpecificRunMachine } from '../../../src/machines/strategies/use-specific-run.machine.js';
import { createStrategyModel } from '../../../src/testing/index.js';
import { existingRun } from '../support/fixtures.js';
import { asV3Run, sessionV3 } from '../support/fixtures-v3.js';
import { done, http, requestFailures, runPath, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';

const load = runPath(`${existingRun.id}/`);
const model = createStrategyModel<ModelItem>(useSpecificRunMachine, {
  input: { session: sessionV3, options: { runId: existingRun.id } },
  outcomes: {
    loadRun: [
      done('found', asV3Run(existingRun), http('GET', load, { status: 200, json: existingRun })),
      ...requestFailures('GET', load, ['notFound', 'unavailable']),
    ],
  },
});

modelSuite(
  'use-specific-run (v3)',
  model,
  (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }),
  { http: startModelHttpV3 },
);
