import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/emulator/cli-args.js';
import { createDevToken, decodeJwtUser, startEmulator } from '../../src/emulator/index.js';
import { call, TOKEN_U1, useEmulator } from './helpers.js';
import { createV3Run, fault, G1_KEY, V3_U1, V3_U2, V3_U3, V3_U4_G2, v3 } from './v3-helpers.js';

const emu = useEmulator({
  tokens: { 'tok-u9': { id: 'u9', userName: 'ivy', groupName: 'g1', groupKey: G1_KEY } },
  worlds: [
    {
      id: 'w1',
      account: 'acme',
      project: 'sim',
      group: 'g1',
      users: [
        { userId: 'u1', userName: 'alice' },
        { userId: 'u2', userName: 'bob' },
      ],
    },
  ],
});
afterEach(() => emu.stop());

const invalidated = fault(401, 'AUTHENTICATION_INVALIDATED');

describe('authentication', () => {
  it('answers 401 faults without a token (even when anonymous) and for undecodable tokens', async () => {
    await emu.start({ anonymous: true });
    const missing = await v3(emu.current, 'GET', 'verification', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual(fault(401, 'AUTHENTICATION_REQUIRED'));
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await v3(emu.current, 'GET', 'world/g1', { token: 'garbage' })).body).toEqual(fault(401, 'AUTHENTICATION_INVALID'));
    // v2 stays anonymous-friendly.
    expect((await call(emu.current, 'GET', 'run/acme/sim/;/', { token: null })).status).toBe(200);
  });

  it('GET verification answers the session of the token: userKey, group, displayName, account and project', async () => {
    await emu.start();
    const session = await v3(emu.current, 'GET', 'verification');
    expect(session.status).toBe(200);
    expect(session.body).toEqual({
      token: V3_U1,
      userKey: 'u1',
      groupName: 'g1',
      groupKey: G1_KEY,
      groupRole: 'PARTICIPANT',
      displayName: 'alice',
      objectType: 'user',
      accountShortName: 'acme',
      projectShortName: 'sim',
    });
    // A token-table user carries its group as fields.
    expect((await v3(emu.current, 'GET', 'verification', { token: 'tok-u9' })).body).toMatchObject({ userKey: 'u9', groupKey: G1_KEY });
    // Without a group_key claim the key is derived from the name.
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U4_G2 })).body).toMatchObject({ groupName: 'g2', groupKey: 'gk-g2' });
    const noGroup = (await v3(emu.current, 'GET', 'verification', { token: TOKEN_U1 })).body;
    expect(noGroup.groupKey).toBeUndefined();
    expect((await v3(emu.current, 'DELETE', 'verification')).status).toBe(405);
  });

  it('createDevToken carries group_key', () => {
    const payload = JSON.parse(Buffer.from(V3_U1.split('.')[1] as string, 'base64url').toString('utf8'));
    expect(payload).toMatchObject({ user_id: 'u1', group_name: 'g1', group_key: G1_KEY });
    expect(decodeJwtUser(V3_U1)).toEqual({ id: 'u1', userName: 'alice' });
  });

  it('PATCH authentication issues a new valid token for the same user, in its group or a known one', async () => {
    await emu.start();
    const renewed = await v3(emu.current, 'PATCH', 'authentication', { body: { objectType: 'user', groupKey: G1_KEY } });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ userKey: 'u1', groupName: 'g1', groupKey: G1_KEY, displayName: 'alice', objectType: 'user' });
    expect(renewed.body.token).not.toBe(V3_U1);
    expect((await v3(emu.current, 'GET', 'verification', { token: renewed.body.token })).body.userKey).toBe('u1');
    // A derived key names its group.
    const switched = await v3(emu.current, 'PATCH', 'authentication', { body: { objectType: 'user', groupKey: 'gk-g2' } });
    expect(switched.body).toMatchObject({ userKey: 'u1', groupName: 'g2', groupKey: 'gk-g2' });
    expect((await v3(emu.current, 'PATCH', 'authentication', { body: { objectType: 'user', groupKey: 'nope' } })).body).toEqual(
      fault(404, 'GROUP_NOT_FOUND'),
    );
    expect((await v3(emu.current, 'PATCH', 'authentication', { body: { objectType: 'admin' } })).status).toBe(400);
    expect((await v3(emu.current, 'PATCH', 'authentication', { token: null, body: { objectType: 'user' } })).status).toBe(401);
  });
});

describe('token invalidation on assignment changes', () => {
  it('self-assignment invalidates the caller’s tokens; PATCH authentication recovers with a new one', async () => {
    await emu.start({ invalidateTokensOnAssignment: true });
    expect((await v3(emu.current, 'GET', 'world/g1?mine=true', { token: V3_U3 })).body).toEqual([]);
    const assigned = await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U3 });
    expect(assigned.status).toBe(200);

    const refused = await v3(emu.current, 'GET', 'world/g1?mine=true', { token: V3_U3 });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(refused.body).toEqual(invalidated);
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U3 })).body).toEqual(invalidated);
    // Other users keep working.
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U2 })).status).toBe(200);

    const renewed = await v3(emu.current, 'PATCH', 'authentication', { token: V3_U3, body: { objectType: 'user', groupKey: G1_KEY } });
    expect(renewed.status).toBe(200);
    const token = renewed.body.token as string;
    const mine = await v3(emu.current, 'GET', 'world/g1?mine=true', { token });
    expect(mine.body.map((world: any) => world.worldKey)).toEqual([assigned.body.worldKey]);
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U3 })).status).toBe(401);
    // Asking again changes nothing, so the new token stays valid.
    expect((await v3(emu.current, 'POST', 'world/selfassign/g1', { token })).status).toBe(200);
    expect((await v3(emu.current, 'GET', 'verification', { token })).status).toBe(200);
    // v2 does not know about invalidation.
    expect((await call(emu.current, 'GET', 'run/acme/sim/;/', { token: V3_U3 })).status).toBe(200);
  });

  it('facilitator assignment changes and world deletion invalidate the users concerned', async () => {
    await emu.start({ invalidateTokensOnAssignment: true });
    for (const token of [V3_U1, V3_U2, V3_U3]) expect((await v3(emu.current, 'GET', 'verification', { token })).status).toBe(200);
    await v3(emu.current, 'PUT', 'world/assignment/g1', { token: V3_U3, body: { assignments: { w1: [{ userKey: 'u1' }] } } });
    // u2 left w1; u1 stays where it was; u3 (the facilitator here) was not concerned.
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U2 })).body).toEqual(invalidated);
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U1 })).status).toBe(200);
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U3 })).status).toBe(200);
    expect((await v3(emu.current, 'DELETE', 'world/w1', { token: V3_U3 })).status).toBe(204);
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U1 })).body).toEqual(invalidated);
  });

  it('is off by default; invalidateTokens and the control API invalidate on demand; configure turns it on', async () => {
    await emu.start();
    await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U3 });
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U3 })).status).toBe(200);

    expect(emu.current.invalidateTokens('u3')).toBe(1);
    expect((await v3(emu.current, 'GET', 'verification', { token: V3_U3 })).body).toEqual(invalidated);
    const control = await call(emu.current, 'POST', '/_emulator/invalidate', { token: null, body: { userId: 'u1' } });
    expect(control.body).toEqual({ invalidated: 0 });
    await v3(emu.current, 'GET', 'verification');
    expect((await call(emu.current, 'POST', '/_emulator/invalidate', { token: null, body: { userId: 'u1' } })).body).toEqual({
      invalidated: 1,
    });
    expect((await v3(emu.current, 'GET', 'verification')).body).toEqual(invalidated);
    expect((await call(emu.current, 'POST', '/_emulator/invalidate', { token: null, body: {} })).status).toBe(400);

    const settings = await call(emu.current, 'PUT', '/_emulator/settings', { token: null, body: { invalidateTokensOnAssignment: true } });
    expect(settings.body).toEqual({ allowWorldSelfAssign: true, invalidateTokensOnAssignment: true });
    const fresh = createDevToken({ userId: 'u5', groupName: 'g1', groupKey: G1_KEY });
    await v3(emu.current, 'POST', 'world/selfassign/g1', { token: fresh });
    expect((await v3(emu.current, 'GET', 'verification', { token: fresh })).body).toEqual(invalidated);
    expect(
      (await call(emu.current, 'PUT', '/_emulator/settings', { token: null, body: { invalidateTokensOnAssignment: 'yes' } })).status,
    ).toBe(400);
    expect((await call(emu.current, 'PUT', '/_emulator/settings', { token: null, body: { other: true } })).status).toBe(400);
    expect(() => emu.current.configure({ allowWorldSelfAssign: 1 as never })).toThrow(TypeError);
    // reset forgets invalidations.
    emu.current.reset();
    expect((await v3(emu.current, 'GET', 'verification', { token: fresh })).status).toBe(200);
  });

  it('the CLI sets both switches', () => {
    expect(parseCliArgs(['--no-self-assign', '--invalidate-tokens'])).toMatchObject({
      kind: 'run',
      options: { allowWorldSelfAssign: false, invalidateTokensOnAssignment: true },
    });
    const plain = parseCliArgs([]);
    expect(plain.kind === 'run' && 'allowWorldSelfAssign' in plain.options).toBe(false);
  });

  it('startEmulator refuses non-boolean switches', async () => {
    await expect(startEmulator({ allowWorldSelfAssign: 'no' as never })).rejects.toThrow(TypeError);
    await expect(startEmulator({ invalidateTokensOnAssignment: 1 as never })).rejects.toThrow(TypeError);
  });

  it('keeps runs usable across a renewal: the new token sees the same runs', async () => {
    await emu.start({ invalidateTokensOnAssignment: true });
    const run = await createV3Run(emu.current, {}, V3_U3);
    await v3(emu.current, 'POST', 'world/selfassign/g1', { token: V3_U3 });
    expect((await v3(emu.current, 'GET', `run/${run.runKey}`, { token: V3_U3 })).status).toBe(401);
    const { token } = (await v3(emu.current, 'PATCH', 'authentication', { token: V3_U3, body: { objectType: 'user', groupKey: G1_KEY } }))
      .body;
    expect((await v3(emu.current, 'GET', `run/${run.runKey}`, { token })).body.runKey).toBe(run.runKey);
    expect((await createV3Run(emu.current, {}, token)).scope).toEqual({ scopeBoundary: 'GROUP', scopeKey: G1_KEY, userKey: 'u3' });
  });
});
