import { afterEach, describe, expect, it } from 'vitest';
import { createDevToken, decodeJwtUser } from '../../src/emulator/index.js';
import { call, createRun, RUNS, TOKEN_U1, useEmulator } from './helpers.js';

const emu = useEmulator({ tokens: { 'tok-u7': { id: 'u7', userName: 'grace' } } });
afterEach(() => emu.stop());

describe('createDevToken / decodeJwtUser', () => {
  it('makes an unsigned three-part JWT whose payload carries user_id and user_name', () => {
    const token = createDevToken({ userId: 'u1', userName: 'alice/team', groupName: 'g1', email: 'a@example.com' });
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    const payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
    expect(payload).toMatchObject({
      user_id: 'u1',
      user_name: 'alice/team',
      group_name: 'g1',
      email: 'a@example.com',
      parent_account_id: null,
    });
    expect(decodeJwtUser(token)).toEqual({ id: 'u1', userName: 'alice/team', email: 'a@example.com' });
    expect(decodeJwtUser(createDevToken({ userId: 'u2' }))).toEqual({ id: 'u2', userName: 'u2' });
  });

  it('rejects tokens that are not JWTs with a user_id', () => {
    const unsigned = (payload: unknown) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
    for (const token of [
      'nonsense',
      'a.b',
      'a..c',
      'a.!!!.c',
      unsigned({ user_name: 'x' }),
      unsigned({ user_id: '' }),
      unsigned([1]),
      unsigned('str'),
    ]) {
      expect(decodeJwtUser(token), token).toBeNull();
    }
    expect(decodeJwtUser(unsigned({ user_id: 42 }))).toEqual({ id: '42' });
  });
});

describe('identity over HTTP', () => {
  it('refuses a token table entry without a user id at start', async () => {
    await expect(emu.start({ tokens: { bad: { userName: 'x' } as never } })).rejects.toThrow(TypeError);
  });

  it('takes the run user from a JWT or from the token table', async () => {
    await emu.start();
    expect((await createRun(emu.current)).user).toEqual({ id: 'u1', userName: 'alice' });
    expect((await createRun(emu.current, {}, 'tok-u7')).user).toEqual({ id: 'u7', userName: 'grace' });
    expect((await call(emu.current, 'GET', `${RUNS};user.id=u7/`)).body).toHaveLength(1);
  });

  it('answers 401 without a token (unless anonymous) and for unknown or undecodable tokens', async () => {
    await emu.start();
    const missing = await call(emu.current, 'GET', `${RUNS};/`, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ status: 401, message: expect.any(String) });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await call(emu.current, 'GET', `${RUNS};/`, { token: 'tok-unknown' })).status).toBe(401);
    expect((await call(emu.current, 'GET', `${RUNS};/`, { token: null, headers: { Authorization: 'Basic dTE6cHc=' } })).status).toBe(401);
    expect((await call(emu.current, 'GET', 'multiplayer/world/', { token: null })).status).toBe(401);
    const log = await emu.current.waitForRequests(4, 2000);
    expect(log.map((entry) => entry.auth)).toEqual(['none', 'invalid', 'invalid', 'none']);
    expect(JSON.stringify(log)).not.toContain('tok-unknown');
  });

  it('accepts anonymous requests when configured (user null) but still refuses bad tokens', async () => {
    await emu.start({ anonymous: true });
    const anonymous = await call(emu.current, 'POST', RUNS, { body: { model: 'm.py' }, token: null });
    expect(anonymous.status).toBe(201);
    expect(anonymous.body.user).toBeNull();
    expect((await call(emu.current, 'GET', `${RUNS};user.id=null/`, { token: null })).body).toHaveLength(1);
    expect((await call(emu.current, 'GET', `${RUNS};/`, { token: 'garbage' })).status).toBe(401);
    expect((await call(emu.current, 'GET', `${RUNS};/`, { token: TOKEN_U1 })).status).toBe(200);
  });
});

describe('CORS', () => {
  it('answers preflights with 204 and the allowed methods and headers', async () => {
    await emu.start();
    const response = await fetch(`${emu.current.baseURL}run/acme/sim/`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:5173',
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization,x-autorestore',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, PATCH, PUT, DELETE, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-AutoRestore, Range');
  });

  it('echoes Origin and exposes Content-Range on answers and refusals', async () => {
    await emu.start();
    const headers = { Origin: 'https://app.example' };
    const ok = await call(emu.current, 'GET', `${RUNS};/`, { headers });
    const refused = await call(emu.current, 'GET', `${RUNS};/`, { headers, token: null });
    for (const response of [ok, refused]) {
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(response.headers.get('access-control-expose-headers')).toBe('Content-Range');
    }
    expect(ok.headers.get('content-range')).toBe('records 0-0/0');
    expect((await call(emu.current, 'GET', `${RUNS};/`, { headers: { 'X-AutoRestore': 'true' } })).status).toBe(200);
  });
});
