/**
 * Model-based paths of reuse-per-session: no cached run, a cached run that is reusable, trashed,
 * gone (404) or unreachable (503), and reset — replayed against the real Run API client.
 */
import { reusePerSessionMachine } from '../../src/machines/strategies/reuse-per-session.machine.js';
import type { StrategyInput } from '../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../src/testing/index.js';
import { config, createdRun, existingRun, session, trashedRun } from './support/fixtures.js';
import { done, http, requestFailures, runPath, type ModelItem } from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';

const cached: StrategyInput = {
  mode: 'getRun',
  config,
  session,
  cachedRun: { id: existingRun.id },
  options: {},
  createOptions: undefined,
  services: placeholderServices(),
};

const load = runPath(`${existingRun.id}/`);
const model = createStrategyModel<ModelItem>(reusePerSessionMachine, {
  input: { session },
  inputs: { 'getRun (cached run)': cached, 'reset (cached run)': { ...cached, mode: 'reset' } },
  outcomes: {
    loadRun: [
      done('reusable', existingRun, http('GET', load, { status: 200, json: existingRun })),
      done('trashed', trashedRun, http('GET', load, { status: 200, json: trashedRun })),
      ...requestFailures('GET', load, ['notFound', 'unavailable']),
    ],
    createRun: [
      done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })),
      ...requestFailures('POST', runPath(), ['unavailable']),
    ],
  },
});

modelSuite('reuse-per-session', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }));
