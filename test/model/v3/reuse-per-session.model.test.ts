/**
 * Model-based paths of reuse-per-session on Epicenter v3: no cached run, a cached run that is
 * reusable, hidden (trashed), gone (404 fault) or unreachable (503 fault), and reset — replayed
 * against the real v3 Run API client (`GET run/{runKey}`, `POST run`).
 */
import { reusePerSessionMachine } from '../../../src/machines/strategies/reuse-per-session.machine.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../../src/testing/index.js';
import { config, createdRun, existingRun, trashedRun } from '../support/fixtures.js';
import { asV3Run, sessionV3 } from '../support/fixtures-v3.js';
import { done, http, requestFailures, runPath, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';

const cached: StrategyInput = {
  mode: 'getRun',
  config,
  session: sessionV3,
  cachedRun: { id: existingRun.id },
  options: {},
  createOptions: undefined,
  services: placeholderServices(),
};

const load = runPath(`${existingRun.id}/`);
const model = createStrategyModel<ModelItem>(reusePerSessionMachine, {
  input: { session: sessionV3 },
  inputs: { 'getRun (cached run)': cached, 'reset (cached run)': { ...cached, mode: 'reset' } },
  outcomes: {
    loadRun: [
      done('reusable', asV3Run(existingRun), http('GET', load, { status: 200, json: existingRun })),
      done('hidden', asV3Run(trashedRun), http('GET', load, { status: 200, json: trashedRun })),
      ...requestFailures('GET', load, ['notFound', 'unavailable']),
    ],
    createRun: [
      done('created', asV3Run(createdRun), http('POST', runPath(), { status: 201, json: createdRun })),
      ...requestFailures('POST', runPath(), ['unavailable']),
    ],
  },
});

modelSuite(
  'reuse-per-session (v3)',
  model,
  (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }),
  { http: startModelHttpV3 },
);
