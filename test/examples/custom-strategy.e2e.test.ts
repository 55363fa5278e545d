/**
 * The favourite-run example strategy end to end: through the public `RunManager`, against the Run
 * API emulator on loopback, with the requests it sends read from the emulator's log.
 */
import { describe, expect, it } from 'vitest';
import { favouriteRun } from '../../examples/custom-strategy/favourite.machine.js';
import { expectRejection, RUNS, SESSION_U1, SESSION_U2, useIntegration } from '../integration/helpers.js';

const h = useIntegration();
/** The two queries of user u1 in group g1, as the emulator logs them. */
const FAVOURITE_QUERY = `GET ${RUNS};favourite=true;model=model.py;scope.group=g1;trashed=false;user.id=u1/`;
const NEWEST_QUERY = `GET ${RUNS};model=model.py;scope.group=g1;trashed=false;user.id=u1/`;
const favouriteManager = (overrides: Parameters<typeof h.manager>[0] = {}) =>
  h.manager({ strategy: favouriteRun, strategyOptions: { favourite: { favourite: true } }, ...overrides });

describe('favourite-run strategy against the emulator', () => {
  it('creates a run when the user has none: two queries, then one create', async () => {
    const run = await favouriteManager().getRun(['price']);
    expect(run.freshlyCreated).toBe(true);
    expect(run.variables).toEqual({ price: 10 });
    const [, newestQuery] = await h.expectTrace([FAVOURITE_QUERY, NEWEST_QUERY, `POST ${RUNS}`, `GET ${RUNS}${run.id}/variables/`]);
    expect(newestQuery!.query).toMatchObject({ sort: 'created', direction: 'desc', startRecord: '0', endRecord: '0', include: 'price' });
  });

  it('comes back to the favourite, not the newest run, in one request', async () => {
    const rm = favouriteManager();
    const first = await rm.getRun();
    await rm.run.save({ favourite: true });
    const second = await rm.reset();
    expect(second.id).not.toBe(first.id);
    await h.take();

    const again = await favouriteManager().getRun();
    expect(again).toMatchObject({ id: first.id, freshlyCreated: false });
    await h.expectTrace([FAVOURITE_QUERY]);
    expect(h.runCount()).toBe(2);
  });

  it('takes the newest run when there is no favourite, and skips a trashed favourite', async () => {
    const rm = favouriteManager();
    const first = await rm.getRun();
    await rm.run.save({ favourite: true, trashed: true });
    const second = await rm.reset();
    await h.take();

    const again = await favouriteManager().getRun();
    expect(again).toMatchObject({ id: second.id, freshlyCreated: false });
    expect(again.id).not.toBe(first.id);
    await h.expectTrace([FAVOURITE_QUERY, NEWEST_QUERY]);
  });

  it("never takes another user's favourite", async () => {
    const other = favouriteManager({ session: SESSION_U2 });
    const theirs = await other.getRun();
    await other.run.save({ favourite: true });
    const mine = await favouriteManager({ session: SESSION_U1 }).getRun();
    expect(mine.id).not.toBe(theirs.id);
    expect(mine.freshlyCreated).toBe(true);
  });

  it('finds the run a create made when its answer was lost, instead of creating another', async () => {
    h.emulator.drop({ method: 'POST', path: RUNS, when: 'after' });
    const run = await favouriteManager().getRun();
    expect(run.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(1);
    expect(h.emulator.runs()[0]!.id).toBe(run.id);
    // `recovering`: one look with the newest-run query finds it.
    await h.expectTrace([FAVOURITE_QUERY, NEWEST_QUERY, `POST ${RUNS}`, NEWEST_QUERY]);
  });

  it('rejects UNAUTHORIZED without a request when nobody is logged in', async () => {
    await expectRejection(favouriteManager({ session: {} }).getRun(), 'UNAUTHORIZED');
    await h.expectTrace([]);
  });

  it('refuses bad strategyOptions when the manager is made', () => {
    expect(() => favouriteManager({ strategyOptions: { favourite: [] } })).toThrow(/strategyOptions.favourite must be a non-empty object/);
    expect(() => favouriteManager({ strategyOptions: { favorite: { starred: true } } })).toThrow(/favorite is not an option/);
  });
});
