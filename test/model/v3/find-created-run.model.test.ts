/**
 * Model-based paths of find-created-run on Epicenter v3, the lost-create search the query-based
 * strategies share: a look that finds the run, finds nothing, finds a run that is not the one the
 * create made, or fails; waits between looks (the machine's own timer, shortened) and the last look
 * giving up — replayed against the real v3 Run API client (pages, `totalResults`, v3 faults).
 */
import type { AnyMachineSnapshot } from 'xstate';
import { findCreatedRunMachine, LOOKS_AGAIN, type FindCreatedRunInput } from '../../../src/machines/strategies/find-created-run.machine.js';
import { createPathModel } from '../../../src/testing/index.js';
import { createdRun, existingRun } from '../support/fixtures.js';
import { queriedV3 } from '../support/fixtures-v3.js';
import { QUERY, requestFailures, type ModelItem } from '../support/http-script.js';
import { startModelHttpV3 } from '../support/http-script-v3.js';
import { liveServices, modelSuite } from '../support/suite.js';

const base: Omit<FindCreatedRunInput, 'rule'> = {
  services: {} as FindCreatedRunInput['services'],
  filter: { 'user.id': 'u1' },
  spelling: 'lower',
};
// Offering a failure or the old run on the looks in between adds orders, not transitions.
const firstOrLast = (snapshot: AnyMachineSnapshot) => {
  const looksAgain = (snapshot.context as { looksAgain: number }).looksAgain;
  return looksAgain === 0 || looksAgain === LOOKS_AGAIN;
};

const model = createPathModel<ModelItem>(findCreatedRunMachine, {
  inputs: {
    'newer than r-old': { ...base, rule: { kind: 'newerThan', newestBeforeCreate: existingRun.id } },
    unflagged: { ...base, rule: { kind: 'unflagged', flag: { isInitComplete: true } } },
  },
  outcomes: {
    lookForCreatedRun: [
      queriedV3('the new run', [createdRun], 2),
      { ...queriedV3('only the old run', [existingRun], 1), when: firstOrLast },
      queriedV3('nothing', [], 0),
      ...requestFailures('GET', QUERY, ['unavailable']).map((variant) => ({ ...variant, when: firstOrLast })),
    ],
  },
  paths: 'simple',
  isComplete: (snapshot) => snapshot.status === 'done',
});

const quick = findCreatedRunMachine.provide({ delays: { waitBeforeLookingAgain: 1 } });

// The input has no session: the v3 client reads the default one (user u1 of group g1, key gk1).
modelSuite(
  'find-created-run (v3)',
  model,
  (h, script, path) => ({ machine: quick, input: { ...(path.input as FindCreatedRunInput), services: liveServices(h, script) } }),
  { http: startModelHttpV3 },
);
