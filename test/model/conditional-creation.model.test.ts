/**
 * Model-based paths of conditional-creation: no cached run, a cached run that loads (the condition
 * keeps it, replaces it, or throws), is gone (404) or unreachable (503), and reset — replayed
 * against the real Run API client with a scripted condition.
 */
import { conditionalCreationMachine, type ConditionalCreationOptions } from '../../src/machines/strategies/conditional-creation.machine.js';
import type { StrategyInput } from '../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../src/testing/index.js';
import { config, createdRun, existingRun, session } from './support/fixtures.js';
import { done, http, requestFailures, returns, runPath, scriptedCall, throws, type ModelItem } from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';

const options: ConditionalCreationOptions = { condition: () => false };
const cached: StrategyInput<ConditionalCreationOptions> = {
  mode: 'getRun',
  config,
  session,
  cachedRun: { id: existingRun.id },
  options,
  createOptions: undefined,
  services: placeholderServices(),
};
const load = runPath(`${existingRun.id}/`);

const model = createStrategyModel<ModelItem>(conditionalCreationMachine, {
  input: { session, options },
  inputs: { 'getRun (cached run)': cached, 'reset (cached run)': { ...cached, mode: 'reset' } },
  outcomes: {
    loadRun: [
      done('found', { run: existingRun, headers: new Headers(), status: 200 }, http('GET', load, { status: 200, json: existingRun })),
      ...requestFailures('GET', load, ['notFound', 'unavailable']),
    ],
    checkCondition: [
      done('create', true, returns('condition', true)),
      done('keep', false, returns('condition', false)),
      { label: 'throws', error: new Error('condition failed'), script: [throws('condition', new Error('condition failed'))] },
    ],
    createRun: [
      done('created', createdRun, http('POST', runPath(), { status: 201, json: createdRun })),
      ...requestFailures('POST', runPath(), ['unavailable']),
    ],
  },
});

modelSuite('conditional-creation', model, (h, script, path) => ({
  input: {
    ...(path.input as object),
    options: { condition: () => scriptedCall(script, 'condition') },
    services: liveServices(h, script),
  },
}));
