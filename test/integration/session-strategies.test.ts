/**
 * Integration: reuse-never, reuse-per-session and reuse-across-sessions (and their aliases) through
 * the public RunManager against the emulator: session records, the model filter, merged scopes, a
 * gone run versus a failing load, single flight, retries, and the token read per request.
 */
import { describe, expect, it } from 'vitest';
import { createDevToken } from '../../src/emulator/index.js';
import { createMemorySessionStore, type UserSession } from '../../src/index.js';
import {
  conditions,
  CREATE_BODY,
  expectRejection,
  NEWEST_LOWER,
  originalRequests,
  RUNS,
  SESSION_KEY,
  SESSION_U2,
  TOKEN_U1,
  useIntegration,
} from './helpers.js';

const h = useIntegration();

describe.each(['reuse-never', 'always-new'])('%s', (strategy) => {
  const original = (phase: 'first' | 'steady' | 'reset', variables = false) => originalRequests('reuse-never', phase, { variables });

  it('creates on every getRun and reset with exactly one request each, and caches nothing', async () => {
    const rm = h.manager({ strategy });

    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUNS}`], original('first'));
    expect(create!.body).toEqual(CREATE_BODY);
    expect(create!.status).toBe(201);
    expect(first).toMatchObject({ freshlyCreated: true, model: 'model.py', user: { id: 'u1' }, scope: { group: 'g1' } });
    expect(h.runCount()).toBe(1);

    const second = await rm.getRun();
    await h.expectTrace([`POST ${RUNS}`], original('steady'));
    expect(second.id).not.toBe(first.id);
    expect(second.freshlyCreated).toBe(true);
    expect(rm.run.id).toBe(second.id);
    expect(h.runCount()).toBe(2);

    const withVariables = await rm.getRun(['price']);
    const entries = await h.expectTrace([`POST ${RUNS}`, `GET ${RUNS}${withVariables.id}/variables/`], original('steady', true));
    expect(entries[1]!.query).toEqual({ include: 'price' });
    expect(withVariables).toMatchObject({ freshlyCreated: true, variables: { price: 10 } });
    expect(h.runCount()).toBe(3);

    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUNS}`], original('reset'));
    expect(reset.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(4);

    const afterReset = await rm.getRun();
    await h.expectTrace([`POST ${RUNS}`], original('steady'));
    expect(afterReset.id).not.toBe(reset.id);
    expect(h.runCount()).toBe(5);
    expect(h.store.size).toBe(0);
  });

  it('never loads a run another strategy cached under the same session key', async () => {
    await h.manager({ strategy: 'reuse-per-session' }).getRun();
    await h.take();
    expect(h.store.size).toBe(1);

    const run = await h.manager({ strategy }).getRun();
    // The original sends GET cookie run + POST here; the floor is one request.
    await h.expectTrace([`POST ${RUNS}`], original('steady') + 1);
    expect(run.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(2);
  });
});

describe.each(['reuse-per-session', 'new-if-missing'])('%s', (strategy) => {
  const original = (phase: 'first' | 'steady' | 'reset', variables = false) => originalRequests('reuse-per-session', phase, { variables });

  it('creates, reuses the cached run, resets, and keeps the reset run', async () => {
    const rm = h.manager({ strategy });

    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUNS}`], original('first'));
    expect(create!.body).toEqual(CREATE_BODY);
    expect(first).toMatchObject({ freshlyCreated: true, user: { id: 'u1' }, scope: { group: 'g1' } });
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    const [load] = await h.expectTrace([`GET ${RUNS}${first.id}/`], original('steady'));
    expect(load!.headers['x-autorestore']).toBe('true');
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false });
    expect(h.runCount()).toBe(1);

    const withVariables = await rm.getRun(['price']);
    const entries = await h.expectTrace([`GET ${RUNS}${first.id}/`], original('steady', true));
    // The load itself asks for the variables (include=): no separate variables request.
    expect(entries[0]!.query).toEqual({ include: 'price' });
    expect(withVariables).toMatchObject({ id: first.id, freshlyCreated: false, variables: { price: 10 } });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    const [resetCreate] = await h.expectTrace([`POST ${RUNS}`], original('reset'));
    expect(resetCreate!.body).toEqual(CREATE_BODY);
    expect(reset.id).not.toBe(first.id);
    expect(reset.freshlyCreated).toBe(true);
    expect(rm.run.id).toBe(reset.id);
    expect(h.runCount()).toBe(2);

    // The original creates a third run here; the record written by reset is reused.
    const afterReset = await rm.getRun(['price']);
    await h.expectTrace([`GET ${RUNS}${reset.id}/`], original('steady', true));
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false, variables: { price: 10 } });
    expect(h.runCount()).toBe(2);
  });

  it('creates when the cached run was trashed', async () => {
    const rm = h.manager({ strategy });
    const first = await rm.getRun();
    await rm.run.save({ trashed: true });
    await h.take();

    const next = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}${first.id}/`, `POST ${RUNS}`]);
    expect(next.id).not.toBe(first.id);
    expect(next.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(2);
  });
});

describe.each(['reuse-across-sessions', 'persistent-single-player'])('%s', (strategy) => {
  const original = (phase: 'first' | 'steady' | 'reset', variables = false) =>
    originalRequests('reuse-across-sessions', phase, { variables });
  // Improvement 5 adds model=model.py to the original's `;scope.group=g1;user.id=u1`.
  const QUERY = `GET ${RUNS};scope.group=g1;user.id=u1;model=model.py/`;

  it('finds the newest run of this user and model, creates when there is none, and resets by creating', async () => {
    const rm = h.manager({ strategy });

    const first = await rm.getRun();
    const [query, create] = await h.expectTrace([QUERY, `POST ${RUNS}`], original('first'));
    expect(query!.query).toEqual(NEWEST_LOWER);
    expect(query!.status).toBe(200);
    expect(create!.body).toEqual(CREATE_BODY);
    expect(first.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    await h.expectTrace([QUERY], original('steady'));
    expect(steady).toMatchObject({ id: first.id, freshlyCreated: false });
    expect(h.runCount()).toBe(1);

    const withVariables = await rm.getRun(['price']);
    await h.expectTrace([QUERY], original('steady', true));
    expect(withVariables).toMatchObject({ id: first.id, variables: { price: 10 } });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    const [resetCreate] = await h.expectTrace([`POST ${RUNS}`], original('reset'));
    expect(resetCreate!.body).toEqual(CREATE_BODY);
    expect(reset.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([QUERY], original('steady'));
    expect(afterReset).toMatchObject({ id: reset.id, freshlyCreated: false });

    // Another browser session (another session store) gets the same run.
    const elsewhere = await h.manager({ strategy, sessionStore: createMemorySessionStore() }).getRun();
    await h.expectTrace([QUERY], original('steady'));
    expect(elsewhere.id).toBe(reset.id);
    expect(h.runCount()).toBe(2);
  });

  it('ignores a newer run of another model', async () => {
    const rm = h.manager({ strategy });
    const own = await rm.getRun();
    const [other] = h.emulator.seed({
      runs: [{ account: 'acme', project: 'sim', model: 'other.py', user: { id: 'u1' }, scope: { group: 'g1' } }],
    }).runs;
    expect(Date.parse(other!.created!)).toBeGreaterThan(Date.parse(own.created!));
    await h.take();

    const again = await rm.getRun();
    const [query] = await h.expectTrace([QUERY], original('steady'));
    expect(conditions(query!)).toContain('model=model.py');
    expect(again.id).toBe(own.id);
    expect(h.runCount()).toBe(2);
  });

  it('with run.scope { region: eu } finds its own run on the second getRun', async () => {
    const rm = h.manager({ strategy, run: { scope: { region: 'eu' } } });
    const scopedQuery = `GET ${RUNS};scope.region=eu;scope.group=g1;user.id=u1;model=model.py/`;

    const first = await rm.getRun();
    const [, create] = await h.expectTrace([scopedQuery, `POST ${RUNS}`], original('first'));
    expect(create!.body).toEqual({ model: 'model.py', scope: { region: 'eu', group: 'g1' } });
    expect(h.runCount()).toBe(1);

    const second = await rm.getRun();
    await h.expectTrace([scopedQuery], original('steady'));
    expect(second).toMatchObject({ id: first.id, freshlyCreated: false });
    expect(h.runCount()).toBe(1);
  });

  it('creates when the newest run is trashed', async () => {
    const rm = h.manager({ strategy });
    const first = await rm.getRun();
    await rm.run.save({ trashed: true });
    await h.take();

    const next = await rm.getRun();
    await h.expectTrace([QUERY, `POST ${RUNS}`]);
    expect(next.id).not.toBe(first.id);
    expect(h.runCount()).toBe(2);
  });
});

describe('session records (reuse-per-session)', () => {
  it('a new manager with the same session store returns the run made by reset', async () => {
    const rm = h.manager();
    await rm.getRun();
    const reset = await rm.reset();
    await h.take();
    rm.stop();

    const run = await h.manager().getRun();
    await h.expectTrace([`GET ${RUNS}${reset.id}/`], originalRequests('reuse-per-session', 'steady'));
    expect(run).toMatchObject({ id: reset.id, freshlyCreated: false });
    expect(h.runCount()).toBe(2);
  });

  it('ignores a record written for another user', async () => {
    const mine = await h.manager().getRun();
    await h.take();

    const theirs = await h.manager({ session: SESSION_U2 }).getRun();
    const [create] = await h.expectTrace([`POST ${RUNS}`]);
    expect(create!.user).toBe('u2');
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs).toMatchObject({ freshlyCreated: true, user: { id: 'u2' } });
    expect(h.runCount()).toBe(2);
  });

  it.each([
    ["a legacy JSON string (the original's cookie)", JSON.stringify({ runId: 'nope' })],
    ['a corrupt value', { v: 1, runId: 42 }],
    ['a record of another model', { v: 1, runId: 'other', userId: 'u1', model: 'other.py', savedAt: 1 }],
  ])('discards %s and replaces it instead of loading or throwing', async (_, value) => {
    await h.store.set(SESSION_KEY, value);
    const run = await h.manager().getRun();
    // The original loads the legacy cookie's run first and throws on corrupt JSON.
    await h.expectTrace([`POST ${RUNS}`]);
    expect(run.freshlyCreated).toBe(true);
    expect(await h.store.get(SESSION_KEY)).toEqual({ v: 1, runId: run.id, userId: 'u1', model: 'model.py', savedAt: expect.any(Number) });
  });

  it('a run that is gone (404) is replaced by a new one', async () => {
    const rm = h.manager();
    const first = await rm.getRun();
    h.emulator.reset();

    const next = await rm.getRun();
    const [load, create] = await h.expectTrace([`GET ${RUNS}${first.id}/`, `POST ${RUNS}`]);
    expect([load!.status, create!.status]).toEqual([404, 201]);
    expect(next.id).not.toBe(first.id);
    expect(next.freshlyCreated).toBe(true);
    expect(h.runCount()).toBe(1);
  });

  it('a load answering 503 rejects HTTP_ERROR and creates nothing', async () => {
    const rm = h.manager();
    const first = await rm.getRun();
    h.emulator.fail({ method: 'GET', path: first.id, status: 503 });
    await h.take();

    const error = await expectRejection(rm.getRun(), 'HTTP_ERROR');
    expect(error.status).toBe(503);
    expect(`${error.message} ${JSON.stringify(error)} ${String(error.cause)}`).not.toContain(TOKEN_U1);
    const [load] = await h.expectTrace([`GET ${RUNS}${first.id}/`]);
    expect(load!.status).toBe(503);
    expect(h.runCount()).toBe(1);

    // The user's run was not abandoned: the next getRun finds it again.
    const again = await rm.getRun();
    await h.expectTrace([`GET ${RUNS}${first.id}/`]);
    expect(again.id).toBe(first.id);
  });
});

describe('single flight', () => {
  it('two managers sharing a session store create one run between them', async () => {
    h.emulator.slow({ method: 'POST', path: RUNS, delayMs: 30 });
    const [a, b] = await Promise.all([h.manager().getRun(), h.manager().getRun()]);
    const entries = await h.take();
    expect(entries.map((entry) => entry.method).sort()).toEqual(['GET', 'POST']);
    expect(b.id).toBe(a.id);
    expect([a.freshlyCreated, b.freshlyCreated].sort()).toEqual([false, true]);
    expect(h.runCount()).toBe(1);
  });

  it('getRun calls during a resolution join it, each with its own variables; a reset during it runs next', async () => {
    h.emulator.slow({ method: 'POST', path: RUNS, delayMs: 30 });
    const rm = h.manager();
    const [plain, priced, reset] = await Promise.all([rm.getRun(), rm.getRun(['price']), rm.reset()]);
    const entries = await h.expectTrace([`POST ${RUNS}`, `GET ${RUNS}${plain.id}/variables/`, `POST ${RUNS}`]);
    expect(entries[1]!.query).toEqual({ include: 'price' });
    expect(priced).toMatchObject({ id: plain.id, variables: { price: 10 } });
    expect(reset.id).not.toBe(plain.id);
    expect(h.runCount()).toBe(2);
  });
});

describe('transport', () => {
  it('retries a GET answering 503 once, but never retries a create POST', async () => {
    const rm = h.manager({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 } });
    const first = await rm.getRun();
    await h.take();

    h.emulator.fail({ method: 'GET', path: first.id, status: 503, times: 1 });
    const again = await rm.getRun();
    const loads = await h.expectTrace([`GET ${RUNS}${first.id}/`, `GET ${RUNS}${first.id}/`]);
    expect(loads.map((entry) => entry.status)).toEqual([503, 200]);
    expect(again).toMatchObject({ id: first.id, freshlyCreated: false });

    h.emulator.fail({ method: 'POST', path: /^\/v2\/run\/acme\/sim\/$/, status: 503, times: 1 });
    const error = await expectRejection(rm.reset(), 'HTTP_ERROR');
    expect(error.status).toBe(503);
    const [create] = await h.expectTrace([`POST ${RUNS}`]);
    expect(create!.status).toBe(503);
    expect(h.runCount()).toBe(1);
  });

  it('reads the token of a session function on every request: a later login and a renewed token are seen', async () => {
    let session: UserSession | undefined;
    const rm = h.manager({ session: () => session });

    const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    expect(error.status).toBe(401);
    const [anonymous] = await h.expectTrace([`POST ${RUNS}`]);
    expect(anonymous!.auth).toBe('none');
    expect(h.runCount()).toBe(0);

    session = { userId: 'u1', groupName: 'g1', auth_token: createDevToken({ userId: 'u1', userName: 'alice' }) };
    const run = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUNS}`]);
    expect(create).toMatchObject({ auth: 'bearer', user: 'u1' });
    expect(run.user).toMatchObject({ id: 'u1', userName: 'alice' });

    session = { ...session, auth_token: createDevToken({ userId: 'u1', userName: 'alice-renewed' }) };
    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUNS}`]);
    expect(reset.user).toMatchObject({ id: 'u1', userName: 'alice-renewed' });
    expect(h.runCount()).toBe(2);
  });
});
