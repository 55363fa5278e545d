/**
 * Model-based paths of none: a single final state for getRun and reset, and no request at all
 * (the scripted server would answer any request with a failure).
 */
import { noneMachine } from '../../src/machines/strategies/none.machine.js';
import { createStrategyModel } from '../../src/testing/index.js';
import { session } from './support/fixtures.js';
import type { ModelItem } from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';

const model = createStrategyModel<ModelItem>(noneMachine, { input: { session } });

modelSuite('none', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }));
