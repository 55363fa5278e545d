/**
 * Integration on Epicenter v3: reuse-never, reuse-per-session and reuse-across-sessions (and their
 * aliases) through the public RunManager against the emulator's `/api/v3/` routes, and runs shared
 * with v2 managers over the emulator's one store. v2 counterpart: session-strategies.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createMemorySessionStore } from '../../src/index.js';
import {
  CREATE_BODY,
  expectV3Run,
  filterOf,
  GROUP_QUERY,
  line,
  MODEL,
  NEWEST,
  RUN,
  runRoute,
  SESSION_KEY,
  SESSION_U2,
  TOKEN_U1,
  U1_SCOPE,
  useV3Integration,
  variablesRoute,
} from './v3-helpers.js';

const h = useV3Integration();

describe.each(['reuse-never', 'always-new'])('%s on v3', (strategy) => {
  it('creates on every getRun and reset (1 request each, +1 for variables), and caches nothing', async () => {
    const rm = h.manager({ strategy });

    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expect(create!.body).toEqual(CREATE_BODY);
    expect(create!.status).toBe(201);
    expectV3Run(first, { freshlyCreated: true, scope: U1_SCOPE, modelFile: MODEL, hidden: false, user: { userKey: 'u1' } });
    expect(h.runCount()).toBe(1);

    const second = await rm.getRun();
    await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expectV3Run(second, { freshlyCreated: true });
    expect(second.id).not.toBe(first.id);
    expect(rm.run.id).toBe(second.id);
    expect(h.runCount()).toBe(2);

    const withVariables = await rm.getRun(['price']);
    const entries = await h.expectTrace([`POST ${RUN}`, `POST ${variablesRoute(withVariables.id)}`]); // v2: 2
    expect(entries[1]!.body).toEqual({ include: 'price' });
    expectV3Run(withVariables, { freshlyCreated: true, variables: { price: 10 } });
    expect(h.runCount()).toBe(3);

    const reset = await rm.reset();
    await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expectV3Run(reset, { freshlyCreated: true, scope: U1_SCOPE });
    expect(h.runCount()).toBe(4);
    expect(h.store.size).toBe(0);
  });
});

describe.each(['reuse-per-session', 'new-if-missing'])('%s on v3', (strategy) => {
  it('creates, reuses the cached run by its runKey, resets, and keeps the reset run', async () => {
    const rm = h.manager({ strategy });

    const first = await rm.getRun();
    const [create] = await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expect(create!.body).toEqual(CREATE_BODY);
    expectV3Run(first, { freshlyCreated: true, scope: U1_SCOPE });
    expect(await h.store.get(SESSION_KEY)).toEqual({ v: 1, runId: first.id, userId: 'u1', model: MODEL, savedAt: expect.any(Number) });

    const steady = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`]); // v2: 1
    expectV3Run(steady, { id: first.id, freshlyCreated: false, scope: U1_SCOPE });
    expect(h.runCount()).toBe(1);

    // A v3 run read carries no variables: they come from their own request (v2 asks the load itself, include=).
    const withVariables = await rm.getRun(['price']);
    const entries = await h.expectTrace([`GET ${runRoute(first.id)}`, `POST ${variablesRoute(first.id)}`]); // v2: 1
    expect(entries[1]!.body).toEqual({ include: 'price' });
    expectV3Run(withVariables, { id: first.id, freshlyCreated: false, variables: { price: 10 } });

    const reset = await rm.reset();
    const [resetCreate] = await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expect(resetCreate!.body).toEqual(CREATE_BODY);
    expectV3Run(reset, { freshlyCreated: true });
    expect(reset.id).not.toBe(first.id);
    expect(rm.run.id).toBe(reset.id);
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(reset.id)}`]); // v2: 1
    expectV3Run(afterReset, { id: reset.id, freshlyCreated: false });
    expect(h.runCount()).toBe(2);
  });

  it('creates when the cached run was hidden (trashed)', async () => {
    const rm = h.manager({ strategy });
    const first = await rm.getRun();
    await h.take();
    await rm.run.save({ trashed: true });
    const [patch] = await h.expectTrace([`PATCH ${runRoute(first.id)}`]);
    expect(patch!.body).toEqual({ hidden: true });

    const next = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`, `POST ${RUN}`]); // v2: 2
    expectV3Run(next, { freshlyCreated: true, hidden: false });
    expect(next.id).not.toBe(first.id);
    expect(h.runCount()).toBe(2);
  });

  it('replaces a cached run that is gone (404 RUN_NOT_FOUND) with a new one', async () => {
    const rm = h.manager({ strategy });
    const first = await rm.getRun();
    h.emulator.reset();

    const next = await rm.getRun();
    const [load, create] = await h.expectTrace([`GET ${runRoute(first.id)}`, `POST ${RUN}`]); // v2: 2
    expect([load!.status, create!.status]).toEqual([404, 201]);
    expectV3Run(next, { freshlyCreated: true });
    expect(next.id).not.toBe(first.id);
    expect(h.runCount()).toBe(1);
  });

  it('ignores a record written for another user', async () => {
    const mine = await h.manager({ strategy }).getRun();
    await h.take();

    const theirs = await h.manager({ strategy, session: SESSION_U2 }).getRun();
    const [create] = await h.expectTrace([`POST ${RUN}`]);
    expect(create!.user).toBe('u2');
    expect(create!.body).toMatchObject({ scope: { userKey: 'u2' } });
    expectV3Run(theirs, { freshlyCreated: true, scope: { userKey: 'u2' }, user: { userKey: 'u2' } });
    expect(theirs.id).not.toBe(mine.id);
  });
});

describe.each(['reuse-across-sessions', 'persistent-single-player'])('%s on v3', (strategy) => {
  it('finds the newest run of this user in the group and model, creates when there is none, and resets by creating', async () => {
    const rm = h.manager({ strategy });

    const first = await rm.getRun();
    const [query, create] = await h.expectTrace([`GET ${GROUP_QUERY}`, `POST ${RUN}`]); // v2: 2
    expect(query!.query).toEqual({ filter: 'run.userKey=u1', ...NEWEST });
    expect(query!.status).toBe(200);
    expect(create!.body).toEqual(CREATE_BODY);
    expectV3Run(first, { freshlyCreated: true, scope: U1_SCOPE });
    expect(h.runCount()).toBe(1);

    const steady = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expectV3Run(steady, { id: first.id, freshlyCreated: false, scope: U1_SCOPE });

    // The query itself asks for the variables (var=), answered in order and read by name.
    const withVariables = await rm.getRun(['price']);
    const [priced] = await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expect(priced!.query).toEqual({ filter: 'run.userKey=u1', ...NEWEST, var: 'price' });
    expectV3Run(withVariables, { id: first.id, freshlyCreated: false, variables: { price: 10 } });
    expect(h.runCount()).toBe(1);

    const reset = await rm.reset();
    const [resetCreate] = await h.expectTrace([`POST ${RUN}`]); // v2: 1
    expect(resetCreate!.body).toEqual(CREATE_BODY);
    expectV3Run(reset, { freshlyCreated: true });
    expect(h.runCount()).toBe(2);

    const afterReset = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]); // v2: 1
    expectV3Run(afterReset, { id: reset.id, freshlyCreated: false });

    // Another browser session (another session store) gets the same run.
    const elsewhere = await h.manager({ strategy, sessionStore: createMemorySessionStore() }).getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]);
    expect(elsewhere.id).toBe(reset.id);
    expect(h.runCount()).toBe(2);
  });

  it('ignores a newer run of another model and another user: the model is a path segment, the user a filter', async () => {
    const rm = h.manager({ strategy });
    const own = await rm.getRun();
    h.emulator.seed({
      runs: [
        { account: 'acme', project: 'sim', model: 'other.py', user: { id: 'u1' }, scope: { group: 'g1' } },
        { account: 'acme', project: 'sim', model: MODEL, user: { id: 'u2' }, scope: { group: 'g1' } },
      ],
    });
    await h.take();

    const again = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`]);
    expect(again.id).toBe(own.id);
    expect(h.runCount()).toBe(3);
  });

  it('creates when the newest run is hidden', async () => {
    const rm = h.manager({ strategy });
    const first = await rm.getRun();
    await rm.run.save({ trashed: true });
    await h.take();

    const next = await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`, `POST ${RUN}`]); // v2: 2
    expectV3Run(next, { freshlyCreated: true, hidden: false });
    expect(next.id).not.toBe(first.id);
    expect(h.runCount()).toBe(2);
  });

  it('strategyOptions.filter in v2 or v3 vocabulary becomes v3 filter conditions (saved → run.marked)', async () => {
    const unmarked = await h.manager({ strategy: 'reuse-never' }).getRun();
    await h.manager({ strategy: 'reuse-never' }).getRun();
    // Mark the older run only, through the v3 API as another client would.
    const response = await fetch(`${h.emulator.v3BaseURL}acme/sim/run/${unmarked.id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${TOKEN_U1}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ marked: true }),
    });
    expect(response.status).toBe(200);
    await h.take();

    for (const filter of [{ saved: true }, { 'run.marked': true }]) {
      const found = await h.manager({ strategy, strategyOptions: { filter } }).getRun();
      const [query] = await h.expectTrace([`GET ${GROUP_QUERY}`]);
      expect(filterOf(query!)).toEqual(['run.marked=true', 'run.userKey=u1']);
      expectV3Run(found, { id: unmarked.id, marked: true, freshlyCreated: false });
    }
    expect(h.runCount()).toBe(2);
  });
});

describe('runs shared with v2 (one emulator store)', () => {
  /** The same user and group over v2 (the v3 session's extra groupKey is not read there). */
  const v2Manager = (strategy: string) => h.manager({ strategy, run: { apiVersion: 2, baseURL: h.emulator.baseURL } });

  it('v3 reuse-across-sessions finds the run the same user made in the same group over v2, and v2 finds v3 runs', async () => {
    const madeOnV2 = await v2Manager('reuse-never').getRun();
    await h.expectTrace(['POST /v2/run/acme/sim/']);

    const found = await h.manager({ strategy: 'reuse-across-sessions' }).getRun(['price']);
    await h.expectTrace([`GET ${GROUP_QUERY}`]);
    expectV3Run(found, { id: madeOnV2.id, freshlyCreated: false, scope: U1_SCOPE, modelFile: MODEL, variables: { price: 10 } });

    const madeOnV3 = await h.manager({ strategy: 'reuse-never' }).getRun();
    await h.take();
    const foundOnV2 = await v2Manager('reuse-across-sessions').getRun();
    const [query] = await h.take();
    expect(line(query!)).toMatch(/^GET \/v2\/run\/acme\/sim\/;/);
    expect(foundOnV2).toMatchObject({ id: madeOnV3.id, freshlyCreated: false, user: { id: 'u1' }, scope: { group: 'g1' } });
    expect(h.runCount()).toBe(2);
  });

  it('v3 reuse-per-session loads the run a v2 manager cached under the same session key', async () => {
    const cached = await v2Manager('reuse-per-session').getRun();
    await h.take();

    const loaded = await h.manager({ strategy: 'reuse-per-session' }).getRun();
    await h.expectTrace([`GET ${runRoute(cached.id)}`]);
    expectV3Run(loaded, { id: cached.id, freshlyCreated: false, scope: U1_SCOPE });
    expect(h.runCount()).toBe(1);
  });
});
