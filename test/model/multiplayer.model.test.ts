/**
 * Model-based paths of multiplayer: no user, no world, the run the world list names (loaded
 * directly; gone, so the world-run call follows), the world-run call (201 vs 200), reset
 * (DELETE + POST), and failures of each request — replayed against the real World and Run API clients.
 */
import { multiplayerMachine } from '../../src/machines/strategies/multiplayer.machine.js';
import type { StrategyInput } from '../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../src/testing/index.js';
import { config, session } from './support/fixtures.js';
import type { ModelItem } from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';
import {
  findWorldOutcomes,
  getWorldRunOutcomes,
  loadListedRunOutcomes,
  loadWorldRunOutcomes,
  replaceWorldRunOutcomes,
  WORLD_RUN_CARRIES_RUN,
} from './support/worlds.js';

const anonymous: StrategyInput = {
  mode: 'getRun',
  config,
  session: {},
  cachedRun: undefined,
  options: {},
  createOptions: undefined,
  services: placeholderServices(),
};

const model = createStrategyModel<ModelItem>(multiplayerMachine, {
  input: { session },
  inputs: { 'getRun (no user)': anonymous },
  outcomes: {
    findWorld: findWorldOutcomes(true),
    loadListedRun: loadListedRunOutcomes,
    getWorldRun: getWorldRunOutcomes,
    replaceWorldRun: replaceWorldRunOutcomes,
    loadRun: loadWorldRunOutcomes(false),
  },
});

modelSuite('multiplayer', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }), {
  unreachable: WORLD_RUN_CARRIES_RUN,
});
