/**
 * Model-based paths of multiplayer on Epicenter v3: no user, no world, the run the world list names
 * (`runKey`; loaded directly, or gone so the world-run call follows), the world-run call
 * (`POST run/world/{worldKey}`, answered with the whole run: 201, or 200 which still made the run
 * when the listing named none), reset (`DELETE` + `POST run/world/{worldKey}`), and failures of each
 * request — replayed against the real v3 World and Run API clients.
 */
import { multiplayerMachine } from '../../../src/machines/strategies/multiplayer.machine.js';
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { createStrategyModel, placeholderServices } from '../../../src/testing/index.js';
import { config } from '../support/fixtures.js';
import { sessionV3 } from '../support/fixtures-v3.js';
import type { ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';
import { findWorldOutcomesV3, getWorldRunOutcomesV3, loadListedRunOutcomesV3, replaceWorldRunOutcomesV3 } from '../support/worlds-v3.js';

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
  input: { session: sessionV3 },
  inputs: { 'getRun (no user)': anonymous },
  outcomes: {
    findWorld: findWorldOutcomesV3(true),
    loadListedRun: loadListedRunOutcomesV3,
    getWorldRun: getWorldRunOutcomesV3(false),
    replaceWorldRun: replaceWorldRunOutcomesV3(false),
    // No loadRun: see below.
  },
});

modelSuite('multiplayer (v3)', model, (h, script, path) => ({ input: { ...(path.input as object), services: liveServices(h, script) } }), {
  http: startModelHttpV3,
  // The v3 world-run call answers the whole run (its client refuses an answer without a runKey,
  // INVALID_RESPONSE), so `worldRunCameWithRun` always holds after it: the load of the world's run
  // that v2 needs never happens. The v2 suite covers these.
  unreachable: {
    states: ['loadingRun'],
    transitions: [
      'gettingWorldRun --xstate.done.actor.getWorldRun--> loadingRun',
      'replacingWorldRun --xstate.done.actor.replaceWorldRun--> loadingRun',
      'loadingRun --xstate.done.actor.loadRun--> ready',
      'loadingRun --xstate.error.actor.loadRun--> error',
    ],
    why: 'the v3 world-run call answers the whole run: nothing is left to load',
  },
});
