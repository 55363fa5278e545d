/**
 * Model-based paths of conditional-creation on Epicenter v3: no cached run, a cached run that loads
 * (the condition, given the v3 record, keeps it, replaces it, or throws), is gone (404 fault) or
 * unreachable (503 fault), and reset — replayed against the real v3 Run API client with a scripted
 * condition.
 */
import {
  conditionalCreationMachine,
  type ConditionalCreationOptions,
} from '../../../src/machines/strategies/conditional-creation.machine.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../../src/testing/index.js';
import { config, createdRun, existingRun } from '../support/fixtures.js';
import { asV3Run, sessionV3 } from '../support/fixtures-v3.js';
import { done, http, requestFailures, returns, runPath, scriptedCall, throws, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';

const options: ConditionalCreationOptions = { condition: () => false };
const cached: StrategyInput<ConditionalCreationOptions> = {
  mode: 'getRun',
  config,
  session: sessionV3,
  cachedRun: { id: existingRun.id },
  options,
  createOptions: undefined,
  services: placeholderServices(),
};
const load = runPath(`${existingRun.id}/`);

const model = createStrategyModel<ModelItem>(conditionalCreationMachine, {
  input: { session: sessionV3, options },
  inputs: { 'getRun (cached run)': cached, 'reset (cached run)': { ...cached, mode: 'reset' } },
  outcomes: {
    loadRun: [
      done(
        'found',
        { run: asV3Run(existingRun), headers: new Headers(), status: 200 },
        http('GET', load, { status: 200, json: existingRun }),
      ),
      ...requestFailures('GET', load, ['notFound', 'unavailable']),
    ],
    checkCondition: [
      done('create', true, returns('condition', true)),
      done('keep', false, returns('condition', false)),
      { label: 'throws', error: new Error('condition failed'), script: [throws('condition', new Error('condition failed'))] },
    ],
    createRun: [
      done('created', asV3Run(createdRun), http('POST', runPath(), { status: 201, json: createdRun })),
      ...requestFailures('POST', runPath(), ['unavailable']),
    ],
  },
});

modelSuite(
  'conditional-creation (v3)',
  model,
  (h, script, path) => ({
    input: {
      ...(path.input as object),
      options: { condition: () => scriptedCall(script, 'condition') },
      services: liveServices(h, script),
    },
  }),
  { http: startModelHttpV3 },
);
