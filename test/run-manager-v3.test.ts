/**
 * The manager on Epicenter v3: the browser's v3 session cookie as the default session, a token the
 * server invalidated renewed once and stored (cookie, `onSession`), never shown to inspectors, and a
 * session that cannot scope runs refused before any request.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDevToken, startEmulator, type Emulator } from '../src/emulator/index.js';
import { createMemorySessionStore, RunManager, RunManagerError, type RunManagerOptions, type V3Session } from '../src/index.js';
import { readSessionCookie, V3_SESSION_COOKIE } from '../src/services/session-cookie.js';

const GROUP = { groupName: 'g1', groupKey: 'key-g1' };
const TOKEN = createDevToken({ userId: 'u1', userName: 'alice', ...GROUP });

/** A browser's `document` as far as cookies go: every write is kept, the newest cookie is read. */
class CookieJar {
  writes: string[] = [];
  values = new Map<string, string>();
  constructor(readonly location: { hostname: string }) {}
  get cookie(): string {
    return [...this.values].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  set cookie(text: string) {
    this.writes.push(text);
    const [pair] = text.split(';');
    const [name, ...value] = pair!.split('=');
    this.values.set(name!.trim(), value.join('='));
  }
}

function v3Cookie(session: Record<string, unknown>): string {
  return encodeURIComponent(JSON.stringify(session));
}

let emulator: Emulator;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});
afterEach(() => {
  for (const rm of managers.splice(0)) rm.stop();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function manager(options: Partial<RunManagerOptions> = {}): RunManager {
  const rm = new RunManager({
    run: { account: 'acme', project: 'sim', model: 'model.py', apiVersion: 3, baseURL: emulator.v3BaseURL },
    strategy: 'reuse-across-sessions',
    sessionStore: createMemorySessionStore(),
    ...options,
  });
  managers.push(rm);
  return rm;
}

function requests(): string[] {
  return emulator.requests.map((entry) => `${entry.method} ${entry.path}`);
}

describe('the v3 session cookie', () => {
  it('is read as the session: token → auth_token, userKey → userId, group fields as they are', () => {
    const jar = new CookieJar({ hostname: 'localhost' });
    jar.values.set(V3_SESSION_COOKIE, v3Cookie({ token: 't1', userKey: 'u1', ...GROUP, displayName: 'Alice' }));
    jar.values.set('epicenterjs.session', v3Cookie({ auth_token: 'v2', userId: 'other' }));
    vi.stubGlobal('document', jar);
    expect(readSessionCookie(3)).toEqual({ auth_token: 't1', userId: 'u1', ...GROUP, displayName: 'Alice' });
    expect(readSessionCookie(2)).toEqual({ auth_token: 'v2', userId: 'other' });
  });

  it('is the default session on v3: its token authorises the requests and its group scopes the runs', async () => {
    const jar = new CookieJar({ hostname: 'localhost' });
    jar.values.set(V3_SESSION_COOKIE, v3Cookie({ token: TOKEN, userKey: 'u1', ...GROUP }));
    vi.stubGlobal('document', jar);
    const run = await manager().getRun();
    expect(run).toMatchObject({ freshlyCreated: true, scope: { scopeBoundary: 'GROUP', scopeKey: 'key-g1', userKey: 'u1' } });
    expect(requests()).toEqual(['GET /api/v3/acme/sim/run/GROUP/key-g1/model.py', 'POST /api/v3/acme/sim/run']);
  });
});

describe('a token the server invalidated', () => {
  it('is renewed once, the request sent again, and the new session stored in the cookie and given to onSession', async () => {
    const jar = new CookieJar({ hostname: 'localhost' });
    jar.values.set(V3_SESSION_COOKIE, v3Cookie({ token: TOKEN, userKey: 'u1', ...GROUP }));
    vi.stubGlobal('document', jar);
    const renewed: V3Session[] = [];
    const rm = manager({ onSession: (session) => void renewed.push(session) });
    const first = await rm.getRun();
    emulator.clearLog();
    emulator.invalidateTokens('u1');

    expect((await rm.getRun()).id).toBe(first.id);
    expect(requests()).toEqual([
      'GET /api/v3/acme/sim/run/GROUP/key-g1/model.py',
      'PATCH /api/v3/acme/sim/authentication',
      'GET /api/v3/acme/sim/run/GROUP/key-g1/model.py',
    ]);
    expect(emulator.requests.map((entry) => entry.status)).toEqual([401, 200, 200]);
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toMatchObject({ userKey: 'u1', groupKey: 'key-g1' });
    expect(renewed[0]!.token).not.toBe(TOKEN);
    // Stored where the official client keeps it: a custom domain's cookie has path `/`.
    expect(jar.writes).toHaveLength(1);
    expect(jar.writes[0]).toMatch(new RegExp(`^${V3_SESSION_COOKIE.replaceAll('.', '\\.')}=[^;]+; path=/; SameSite=Lax$`));
    expect(readSessionCookie(3)?.auth_token).toBe(renewed[0]!.token);

    // Later requests carry the new token: no second renewal.
    emulator.clearLog();
    await rm.getRun();
    expect(requests()).toEqual(['GET /api/v3/acme/sim/run/GROUP/key-g1/model.py']);
  });

  it("on Forio's own domain is stored with the project's path", async () => {
    const jar = new CookieJar({ hostname: 'forio.com' });
    jar.values.set(V3_SESSION_COOKIE, v3Cookie({ token: TOKEN, userKey: 'u1', ...GROUP }));
    vi.stubGlobal('document', jar);
    const rm = manager();
    await rm.getRun();
    emulator.invalidateTokens('u1');
    await rm.getRun();
    expect(jar.writes.map((write) => write.split('; ')[1])).toEqual(['path=/app/acme/sim']);
  });

  it('is renewed for a session object too; an onSession that throws is reported, the request still succeeds', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const rm = manager({
      session: { userId: 'u1', ...GROUP, auth_token: TOKEN },
      onSession: () => {
        throw new Error('storage full');
      },
    });
    const first = await rm.getRun();
    emulator.invalidateTokens('u1');
    expect((await rm.getRun()).id).toBe(first.id);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/onSession threw: .*storage full/));
    // The object still holds the old token; the renewal stands in for it.
    emulator.clearLog();
    await rm.getRun();
    expect(requests()).toEqual(['GET /api/v3/acme/sim/run/GROUP/key-g1/model.py']);
  });

  it('is never shown to an inspector, old or new', async () => {
    const seen: string[] = [];
    const renewed: V3Session[] = [];
    const rm = manager({
      session: { userId: 'u1', ...GROUP, auth_token: TOKEN },
      onSession: (session) => void renewed.push(session),
      inspect: (event) => void seen.push(JSON.stringify(event)),
    });
    await rm.getRun();
    emulator.invalidateTokens('u1');
    await rm.getRun();
    await rm.reset();
    expect(renewed).toHaveLength(1);
    const all = seen.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(renewed[0]!.token);
  });

  it('fails UNAUTHORIZED with the server code when another 401 comes', async () => {
    const rm = manager({ session: { userId: 'u1', ...GROUP, auth_token: 'not-a-token' } });
    const failure = await rm.getRun().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunManagerError);
    expect(failure).toMatchObject({ type: 'UNAUTHORIZED', status: 401, code: 'AUTHENTICATION_INVALID' });
    expect(requests()).toEqual(['GET /api/v3/acme/sim/run/GROUP/key-g1/model.py']);
  });
});

describe('a v3 session that cannot scope runs', () => {
  it('is refused UNAUTHORIZED before any request: no groupKey for a group strategy, no groupName for a world one', async () => {
    const noKey = manager({ session: { userId: 'u1', groupName: 'g1', auth_token: TOKEN } });
    await expect(noKey.getRun()).rejects.toMatchObject({ type: 'UNAUTHORIZED', message: expect.stringMatching(/session\.groupKey/) });
    const noName = manager({ strategy: 'multiplayer', session: { userId: 'u1', groupKey: 'key-g1', auth_token: TOKEN } });
    await expect(noName.getRun()).rejects.toMatchObject({ type: 'UNAUTHORIZED', message: expect.stringMatching(/session\.groupName/) });
    // Even with a run remembered in the session store, nothing is sent for a session without the group.
    const sessionStore = createMemorySessionStore();
    await manager({ strategy: 'reuse-per-session', sessionStore, session: { userId: 'u1', ...GROUP, auth_token: TOKEN } }).getRun();
    emulator.clearLog();
    const remembered = manager({
      strategy: 'reuse-per-session',
      sessionStore,
      session: { userId: 'u1', groupName: 'g1', auth_token: TOKEN },
    });
    await expect(remembered.getRun()).rejects.toMatchObject({ type: 'UNAUTHORIZED' });
    expect(requests()).toEqual([]);
    // use-specific-run needs no group: it loads one run by key.
    const specific = manager({ strategy: 'use-specific-run', strategyOptions: { runId: 'r-missing' }, session: { auth_token: TOKEN } });
    await expect(specific.getRun()).rejects.toMatchObject({ type: 'RUN_NOT_FOUND' });
    expect(requests()).toEqual(['GET /api/v3/acme/sim/run/r-missing']);
  });
});
