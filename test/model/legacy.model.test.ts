/**
 * Model-based paths of the legacy wrapper (a `{ getRun, reset }` strategy as the original library took): it creates
 * a run through the real Run API client, returns a value without a run, rejects with the original's
 * `{ type, message }`, or fails on HTTP — for getRun and reset.
 */
import { legacyStrategyMachine } from '../../src/machines/strategies/legacy.machine.js';
import type { LegacyStrategy, StrategyOutput } from '../../src/machines/strategies/types.js';
import { createStrategyModel } from '../../src/testing/index.js';
import { createdRun, session } from './support/fixtures.js';
import {
  doneFrom,
  done,
  errors,
  failed,
  http,
  MODEL,
  responses,
  returns,
  runPath,
  scriptedCall,
  throws,
  type ModelItem,
} from './support/http-script.js';
import { liveServices, modelSuite } from './support/suite.js';

const CREATE = { create: true };
const typedRejection = { type: 'UNAUTHORIZED', message: 'No user-session available' };

const model = createStrategyModel<ModelItem>(legacyStrategyMachine, {
  input: { session },
  outcomes: {
    callStrategy: [
      // Without a RunService to ask, a run counts as created by a reset and as reused by a getRun.
      doneFrom(
        'created a run',
        (snapshot): StrategyOutput => ({ ok: true, run: { ...createdRun, freshlyCreated: snapshot.context.mode === 'reset' } }),
        [returns('legacy', CREATE), http('POST', runPath(), { status: 201, json: createdRun })],
      ),
      done('returned a value', { ok: true, run: null, value: 'no run' }, returns('legacy', 'no run')),
      failed('typed rejection', typedRejection, throws('legacy', typedRejection)),
      failed('503', errors.unavailable(), returns('legacy', CREATE), http('POST', runPath(), responses.unavailable)),
    ],
  },
});

modelSuite('legacy', model, (h, script, path) => {
  const services = liveServices(h, script);
  const act = async () => {
    const directive = await scriptedCall(script, 'legacy');
    return (directive as { create?: boolean } | null)?.create === true ? services.runApi.create({ model: MODEL }) : directive;
  };
  const legacy: LegacyStrategy = { getRun: act, reset: act };
  return { input: { ...(path.input as object), services: { ...services, legacy } } };
});
