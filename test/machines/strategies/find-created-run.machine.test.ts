/**
 * The lost-create search on its own: what a look accepts, how often it looks again and how long it
 * waits in between, and that a stop cancels the wait.
 */
import { describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { RunManagerError } from '../../../src/errors.js';
import {
  acceptedRun,
  findCreatedRunMachine,
  FIRST_WAIT_MS,
  LOOKS_AGAIN,
  type CreatedRunRule,
  type FindCreatedRunInput,
} from '../../../src/machines/strategies/find-created-run.machine.js';
import type { Run } from '../../../src/types.js';
import { createFakeServices, httpError, quickFindCreatedRun } from '../../helpers/fake-services.js';

const nothing = { runs: [], total: 0, range: null };
const made: Run = { id: 'made', model: 'model.py', user: { id: 'u1' }, trashed: false };
const newerThanNone: CreatedRunRule = { kind: 'newerThan', newestBeforeCreate: null };

function input(fake: ReturnType<typeof createFakeServices>, rule: CreatedRunRule = newerThanNone): FindCreatedRunInput {
  return { services: fake.services, filter: { 'user.id': 'u1' }, rule, spelling: 'lower' };
}

async function search(fake: ReturnType<typeof createFakeServices>, rule?: CreatedRunRule): Promise<Run | null> {
  return toPromise(createActor(quickFindCreatedRun, { input: input(fake, rule) }).start());
}

describe('findCreatedRunMachine', () => {
  it('keeps the run the first look finds', async () => {
    const fake = createFakeServices();
    fake.reply('query', { runs: [made], total: 1, range: null });
    expect(await search(fake)).toEqual(made);
    expect(fake.methods()).toEqual(['query']);
    expect(fake.callsTo('query')[0]!.args).toEqual([
      { 'user.id': 'u1' },
      { startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' },
    ]);
  });

  it('waits and looks again while the run is not there yet, or the look fails', async () => {
    const fake = createFakeServices();
    fake.reply('query', nothing, 1);
    fake.fail('query', httpError(503), 1);
    fake.reply('query', { runs: [made], total: 1, range: null });
    expect(await search(fake)).toEqual(made);
    expect(fake.methods()).toEqual(['query', 'query', 'query']);
  });

  it(`looks again at most ${LOOKS_AGAIN} times, then gives up with null`, async () => {
    const fake = createFakeServices();
    fake.reply('query', nothing, 2);
    fake.fail('query', new RunManagerError('NETWORK_ERROR', 'socket hang up'));
    expect(await search(fake)).toBeNull();
    expect(fake.methods()).toHaveLength(1 + LOOKS_AGAIN);
  });

  it(`waits ${FIRST_WAIT_MS} ms, doubling, between looks`, async () => {
    const waits: number[] = [];
    const fake = createFakeServices();
    const watched = findCreatedRunMachine.provide({
      delays: {
        waitBeforeLookingAgain: (args) => {
          const planned = (findCreatedRunMachine.implementations.delays.waitBeforeLookingAgain as (a: typeof args) => number)(args);
          waits.push(planned);
          return 1;
        },
      },
    });
    expect(await toPromise(createActor(watched, { input: input(fake) }).start())).toBeNull();
    expect(waits).toEqual([200, 400, 800]);
  });

  it('stopping it while it waits cancels the wait: no more looks', async () => {
    const fake = createFakeServices();
    const actor = createActor(findCreatedRunMachine.provide({ delays: { waitBeforeLookingAgain: 30 } }), { input: input(fake) }).start();
    while (actor.getSnapshot().value !== 'waiting') await new Promise((resolve) => setTimeout(resolve, 1));
    actor.stop();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fake.methods()).toEqual(['query']);
  });
});

describe('acceptedRun', () => {
  const result = (runs: Run[]) => ({ runs, total: runs.length, range: null });

  it('newerThan: the newest untrashed run, unless it was the newest before the create', () => {
    expect(acceptedRun(result([made]), { kind: 'newerThan', newestBeforeCreate: 'before' })).toEqual(made);
    expect(acceptedRun(result([made]), { kind: 'newerThan', newestBeforeCreate: 'made' })).toBeUndefined();
    expect(acceptedRun(result([{ ...made, trashed: true }]), newerThanNone)).toBeUndefined();
    expect(acceptedRun(result([]), newerThanNone)).toBeUndefined();
  });

  it('unflagged: the newest untrashed run that does not carry the init flag yet', () => {
    const rule: CreatedRunRule = { kind: 'unflagged', flag: { isInitComplete: true } };
    expect(acceptedRun(result([made]), rule)).toEqual(made);
    expect(acceptedRun(result([{ ...made, isInitComplete: true }]), rule)).toBeUndefined();
  });
});
