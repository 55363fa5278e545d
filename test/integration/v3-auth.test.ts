/**
 * Integration on Epicenter v3: what a v3 session must name, the renewal of a token the server
 * invalidated (`AUTHENTICATION_INVALIDATED` → `PATCH authentication` → the request once more), other
 * 401s, and v3 JSON faults as `RunManagerError`s with their `code`, through the public RunManager
 * against the emulator.
 */
import { ofetch } from 'ofetch';
import { describe, expect, it, vi } from 'vitest';
import { createDevToken } from '../../src/emulator/index.js';
import type { UserSession } from '../../src/index.js';
import {
  AUTHENTICATION,
  G1_KEY,
  GROUP_QUERY,
  MY_WORLDS,
  RUN,
  runRoute,
  SELF_ASSIGN,
  SESSION_U1,
  SESSION_U3,
  TOKEN_U1,
  TOKEN_U3,
  expectRejection,
  expectV3Run,
  useV3Integration,
  worldRunRoute,
} from './v3-helpers.js';

const h = useV3Integration();

/** An ofetch instance that records the bearer token of every request the manager sends. */
function recordingFetch(): { fetch: typeof ofetch; tokens: Array<string | null> } {
  const tokens: Array<string | null> = [];
  const fetch = ofetch.create({
    onRequest({ options }) {
      const header = new Headers(options.headers).get('authorization');
      tokens.push(header === null ? null : header.replace(/^Bearer /, ''));
    },
  });
  return { fetch, tokens };
}

type RenewedSession = { token: string; userKey?: string; groupKey?: string; groupName?: string };

describe('what a v3 session must name', () => {
  const groupStrategies: Array<[string, Record<string, unknown>]> = [
    ['reuse-never', {}],
    ['reuse-per-session', {}],
    ['reuse-across-sessions', {}],
    ['reuse-last-initialized', { initOperation: 'init' }],
    ['reuse-by-tracking-key', { settings: { trackingKey: 'tk1' } }],
    ['conditional-creation', { condition: () => false }],
  ];

  it.each(groupStrategies)(
    '%s without session.groupKey rejects UNAUTHORIZED on getRun and reset, with zero requests',
    async (strategy, strategyOptions) => {
      const rm = h.manager({ strategy, strategyOptions, session: { userId: 'u1', groupName: 'g1', auth_token: TOKEN_U1 } });
      const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
      expect(error.message).toContain('session.groupKey');
      await expectRejection(rm.reset(), 'UNAUTHORIZED');
      await h.expectTrace([]);
      expect(h.runCount()).toBe(0);
    },
  );

  it.each([
    ['multiplayer', {}],
    ['reuse-by-tracking-key-multiplayer', { settings: { trackingKey: 'tkm' } }],
  ])('%s without session.groupName rejects UNAUTHORIZED, and without userId too, with zero requests', async (strategy, strategyOptions) => {
    const noGroupName = h.manager({ strategy, strategyOptions, session: { userId: 'u1', groupKey: G1_KEY, auth_token: TOKEN_U1 } });
    expect((await expectRejection(noGroupName.getRun(), 'UNAUTHORIZED')).message).toContain('session.groupName');
    await expectRejection(noGroupName.reset(), 'UNAUTHORIZED');

    const noUser = h.manager({ strategy, strategyOptions, session: { groupName: 'g1', groupKey: G1_KEY, auth_token: TOKEN_U1 } });
    expect((await expectRejection(noUser.getRun(), 'UNAUTHORIZED')).message).toContain('no userId in session');
    await h.expectTrace([]);
  });

  it('a session naming a group its token is not in: 403 NOT_IN_GROUP is UNAUTHORIZED with that code, nothing created', async () => {
    const rm = h.manager({ strategy: 'reuse-never', session: { ...SESSION_U1, groupKey: 'key-other' } });
    const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    expect(error).toMatchObject({ status: 403, code: 'NOT_IN_GROUP' });
    const [create] = await h.expectTrace([`POST ${RUN}`]);
    expect(create!.body).toMatchObject({ scope: { scopeKey: 'key-other' } });
    expect(h.runCount()).toBe(0);
  });
});

describe('a token the server invalidated (AUTHENTICATION_INVALIDATED)', () => {
  it('is renewed once with PATCH authentication, the request is sent again, onSession gets the new session, and later requests carry it', async () => {
    const { fetch, tokens } = recordingFetch();
    const onSession = vi.fn<(session: RenewedSession) => void>();
    const rm = h.manager({ strategy: 'reuse-across-sessions', fetch, onSession });
    const first = await rm.getRun();
    await h.take();
    tokens.length = 0;

    expect(h.emulator.invalidateTokens('u1')).toBe(1);
    const again = await rm.getRun();
    const entries = await h.expectTrace([`GET ${GROUP_QUERY}`, `PATCH ${AUTHENTICATION}`, `GET ${GROUP_QUERY}`]);
    expect(entries.map((entry) => entry.status)).toEqual([401, 200, 200]);
    expect(entries[1]!.body).toEqual({ objectType: 'user', groupKey: G1_KEY });
    expectV3Run(again, { id: first.id, freshlyCreated: false });

    expect(onSession).toHaveBeenCalledTimes(1);
    const renewed = onSession.mock.calls[0]![0];
    expect(renewed).toMatchObject({ userKey: 'u1', groupKey: G1_KEY, groupName: 'g1', token: expect.any(String) });
    expect(renewed.token).not.toBe(TOKEN_U1);
    // The refused request and the renewal carry the old token; the retry the new one.
    expect(tokens).toEqual([TOKEN_U1, TOKEN_U1, renewed.token]);

    // The session option still holds the old token: the manager keeps using the renewed one.
    tokens.length = 0;
    const reset = await rm.reset();
    const afterReset = await rm.getRun();
    const later = await h.expectTrace([`POST ${RUN}`, `GET ${GROUP_QUERY}`]);
    expect(later.map((entry) => entry.status)).toEqual([201, 200]);
    expect(tokens).toEqual([renewed.token, renewed.token]);
    expectV3Run(afterReset, { id: reset.id, freshlyCreated: false });
    expect(onSession).toHaveBeenCalledTimes(1);

    // Invalidated again: renewed again (once per refused request, not once per manager).
    h.emulator.invalidateTokens('u1');
    tokens.length = 0;
    await rm.getRun();
    await h.expectTrace([`GET ${GROUP_QUERY}`, `PATCH ${AUTHENTICATION}`, `GET ${GROUP_QUERY}`]);
    expect(onSession).toHaveBeenCalledTimes(2);
    const renewedAgain = onSession.mock.calls[1]![0];
    expect(tokens).toEqual([renewed.token, renewed.token, renewedAgain.token]);
  });

  it('a refused create is sent once more after the renewal and makes exactly one run', async () => {
    const onSession = vi.fn();
    const rm = h.manager({ strategy: 'reuse-never', onSession });
    await rm.getRun();
    await h.take();

    h.emulator.invalidateTokens('u1');
    const run = await rm.getRun();
    const entries = await h.expectTrace([`POST ${RUN}`, `PATCH ${AUTHENTICATION}`, `POST ${RUN}`]);
    expect(entries.map((entry) => entry.status)).toEqual([401, 200, 201]);
    expectV3Run(run, { freshlyCreated: true });
    expect(onSession).toHaveBeenCalledTimes(1);
    expect(h.runCount()).toBe(2);
  });

  it('with a session function that stores the renewed token, the next resolutions send the stored one', async () => {
    const { fetch, tokens } = recordingFetch();
    let session: UserSession = { ...SESSION_U1 };
    const rm = h.manager({
      strategy: 'reuse-per-session',
      fetch,
      session: () => session,
      onSession: (renewed: RenewedSession) => {
        session = { ...session, auth_token: renewed.token };
      },
    });
    const first = await rm.getRun();
    h.emulator.invalidateTokens('u1');
    await h.take();
    tokens.length = 0;

    await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`, `PATCH ${AUTHENTICATION}`, `GET ${runRoute(first.id)}`]);
    expect(session.auth_token).not.toBe(TOKEN_U1);
    expect(tokens).toEqual([TOKEN_U1, TOKEN_U1, session.auth_token]);

    tokens.length = 0;
    await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`]);
    expect(tokens).toEqual([session.auth_token]);
  });

  it('after a facilitator assigns the waiting user (invalidateTokensOnAssignment), the next multiplayer getRun renews and joins the world', async () => {
    h.emulator.configure({ invalidateTokensOnAssignment: true });
    const onSession = vi.fn<(session: RenewedSession) => void>();
    const rm = h.manager({ strategy: 'multiplayer', onSession });
    await expectRejection(rm.getRun(), 'NO_WORLD_FOR_USER');
    await h.expectTrace([`GET ${MY_WORLDS}`]);

    const facilitator = createDevToken({ userId: 'fac', groupName: 'g1', groupKey: G1_KEY });
    const assigned = await fetch(`${h.emulator.v3BaseURL}acme/sim/world/assignment/g1`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${facilitator}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ assignments: [{ userKey: 'u1' }] }),
    });
    expect(assigned.status).toBe(200);
    await h.take();
    const [world] = h.emulator.worlds();

    const run = await rm.getRun();
    const entries = await h.expectTrace([
      `GET ${MY_WORLDS}`,
      `PATCH ${AUTHENTICATION}`,
      `GET ${MY_WORLDS}`,
      `POST ${worldRunRoute(world!.id)}`,
    ]);
    expect(entries.map((entry) => entry.status)).toEqual([401, 200, 200, 201]);
    expectV3Run(run, { freshlyCreated: true, world: { id: world!.id } });
    expect(onSession).toHaveBeenCalledTimes(1);
    expect(onSession.mock.calls[0]![0]).toMatchObject({ userKey: 'u1' });
  });

  it('self-assignment invalidates the token mid-resolution: the world-run POST is renewed and sent again', async () => {
    h.emulator.configure({ invalidateTokensOnAssignment: true });
    const { fetch, tokens } = recordingFetch();
    const onSession = vi.fn<(session: RenewedSession) => void>();
    const rm = h.manager({ strategy: 'multiplayer', session: SESSION_U3, strategyOptions: { selfAssign: {} }, fetch, onSession });

    const run = await rm.getRun();
    const worldKey = h.emulator.worlds()[0]?.id ?? 'none';
    const entries = await h.expectTrace([
      `GET ${MY_WORLDS}`,
      `POST ${SELF_ASSIGN}`,
      `POST ${worldRunRoute(worldKey)}`,
      `PATCH ${AUTHENTICATION}`,
      `POST ${worldRunRoute(worldKey)}`,
    ]);
    expect(entries.map((entry) => entry.status)).toEqual([200, 200, 401, 200, 201]);
    expectV3Run(run, { freshlyCreated: true, world: { id: worldKey } });
    expect(onSession).toHaveBeenCalledTimes(1);
    const renewed = onSession.mock.calls[0]![0];
    expect(tokens).toEqual([TOKEN_U3, TOKEN_U3, TOKEN_U3, TOKEN_U3, renewed.token]);
    expect(h.runCount()).toBe(1);
  });

  it('a renewal the server refuses fails the request UNAUTHORIZED, keeps the code, and is not retried', async () => {
    const onSession = vi.fn();
    const rm = h.manager({ strategy: 'reuse-across-sessions', onSession });
    await rm.getRun();
    h.emulator.invalidateTokens('u1');
    h.emulator.fail({ method: 'PATCH', path: AUTHENTICATION, status: 500 });
    await h.take();

    const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    expect(error).toMatchObject({ status: 401, code: 'AUTHENTICATION_INVALIDATED' });
    expect(error.message).toContain('renewing the session failed');
    const entries = await h.expectTrace([`GET ${GROUP_QUERY}`, `PATCH ${AUTHENTICATION}`]);
    expect(entries.map((entry) => entry.status)).toEqual([401, 500]);
    expect(onSession).not.toHaveBeenCalled();
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(TOKEN_U1);
  });
});

describe('other 401s: UNAUTHORIZED with the server code, never a renewal', () => {
  it.each([
    ['an expired session (injected)', 'AUTHENTICATION_EXPIRED', SESSION_U1],
    ['a token the server cannot read', 'AUTHENTICATION_INVALID', { ...SESSION_U1, auth_token: 'not-a-token' }],
    ['no token at all', 'AUTHENTICATION_REQUIRED', { userId: 'u1', groupName: 'g1', groupKey: G1_KEY }],
  ])('%s → %s', async (_, code, session) => {
    if (code === 'AUTHENTICATION_EXPIRED') h.emulator.fail({ method: 'GET', path: GROUP_QUERY, status: 401, code });
    const onSession = vi.fn();
    const rm = h.manager({ strategy: 'reuse-across-sessions', session, onSession });

    const error = await expectRejection(rm.getRun(), 'UNAUTHORIZED');
    expect(error).toMatchObject({ status: 401, code });
    expect(error.message).toContain(`[${code}]`);
    const [query] = await h.expectTrace([`GET ${GROUP_QUERY}`]);
    expect(query!.status).toBe(401);
    expect(onSession).not.toHaveBeenCalled();
    expect(h.runCount()).toBe(0);
  });
});

describe('v3 faults as RunManagerErrors with their code', () => {
  it('a 500 on the query is HTTP_ERROR with the fault code, and nothing is created', async () => {
    h.emulator.fail({ method: 'GET', path: GROUP_QUERY, status: 500 });
    const error = await expectRejection(h.manager({ strategy: 'reuse-across-sessions' }).getRun(), 'HTTP_ERROR');
    expect(error).toMatchObject({ status: 500, code: 'INJECTED_FAULT' });
    await h.expectTrace([`GET ${GROUP_QUERY}`]);
    expect(h.runCount()).toBe(0);
  });

  it('a server-side refusal of a create keeps the code the server sent', async () => {
    h.emulator.fail({ method: 'POST', path: /\/api\/v3\/acme\/sim\/run$/, status: 429, code: 'RUN_LIMIT_EXCEEDED' });
    const error = await expectRejection(h.manager({ strategy: 'reuse-never' }).getRun(), 'HTTP_ERROR');
    expect(error).toMatchObject({ status: 429, code: 'RUN_LIMIT_EXCEEDED' });
    expect(error.toJSON()).toMatchObject({ type: 'HTTP_ERROR', status: 429, code: 'RUN_LIMIT_EXCEEDED' });
    await h.expectTrace([`POST ${RUN}`]);
    expect(h.runCount()).toBe(0);
  });

  it('a load answering 503 rejects HTTP_ERROR with its code, and the cached run is not abandoned', async () => {
    const rm = h.manager({ strategy: 'reuse-per-session' });
    const first = await rm.getRun();
    h.emulator.fail({ method: 'GET', path: runRoute(first.id), status: 503 });
    await h.take();

    const error = await expectRejection(rm.getRun(), 'HTTP_ERROR');
    expect(error).toMatchObject({ status: 503, code: 'INJECTED_FAULT' });
    await h.expectTrace([`GET ${runRoute(first.id)}`]);

    const again = await rm.getRun();
    await h.expectTrace([`GET ${runRoute(first.id)}`]);
    expectV3Run(again, { id: first.id, freshlyCreated: false });
    expect(h.runCount()).toBe(1);
  });

  it('a GET answering 503 is retried (retry option), a v3 create never is', async () => {
    const rm = h.manager({ strategy: 'reuse-across-sessions', retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5 } });
    h.emulator.fail({ method: 'GET', path: GROUP_QUERY, status: 503, times: 1 });
    h.emulator.fail({ method: 'POST', path: /\/api\/v3\/acme\/sim\/run$/, status: 503, times: 1 });

    const error = await expectRejection(rm.getRun(), 'HTTP_ERROR');
    expect(error).toMatchObject({ status: 503, code: 'INJECTED_FAULT' });
    const entries = await h.expectTrace([`GET ${GROUP_QUERY}`, `GET ${GROUP_QUERY}`, `POST ${RUN}`]);
    expect(entries.map((entry) => entry.status)).toEqual([503, 200, 503]);
    expect(h.runCount()).toBe(0);
  });

  it('a world-run call refused with 404 WORLD_NOT_FOUND (world deleted meanwhile) keeps the code', async () => {
    h.seedWorlds({ id: 'w1', users: ['u1'], lastModified: '2020-01-01T00:00:00.000Z' });
    h.emulator.fail({ method: 'POST', path: worldRunRoute('w1'), status: 404, code: 'WORLD_NOT_FOUND' });
    const error = await expectRejection(h.manager({ strategy: 'multiplayer' }).getRun(), 'HTTP_ERROR');
    expect(error).toMatchObject({ status: 404, code: 'WORLD_NOT_FOUND' });
    await h.expectTrace([`GET ${MY_WORLDS}`, `POST ${worldRunRoute('w1')}`]);
  });

  it('a failing init operation: INIT_FAILED with the operation’s v3 code, its fault reachable as its cause', async () => {
    const rm = h.manager({ strategyOptions: { initOperation: 'fail' } });
    const error = await expectRejection(rm.getRun(), 'INIT_FAILED');
    expect(error.status).toBe(500);
    expect(error.message).toContain('[OPERATION_FAILED]');
    expect(error.code).toBe('OPERATION_FAILED');
    expect(error.cause).toMatchObject({ type: 'HTTP_ERROR', status: 500, code: 'OPERATION_FAILED' });
    await h.take();
  });
});
