import { expect } from 'vitest';
import { createDevToken, type Emulator } from '../../src/emulator/index.js';
import { call, type RequestInit2, type TestResponse } from './helpers.js';

/** The v3 root of project acme/sim, relative to the origin. */
export const V3 = '/api/v3/acme/sim/';
export const G1_KEY = 'key-g1';

/** Users of group g1 whose tokens name the group's key; u3 is in no world of the seeded ones. */
export const V3_U1 = createDevToken({ userId: 'u1', userName: 'alice', groupName: 'g1', groupKey: G1_KEY });
export const V3_U2 = createDevToken({ userId: 'u2', userName: 'bob', groupName: 'g1', groupKey: G1_KEY });
export const V3_U3 = createDevToken({ userId: 'u3', userName: 'carol', groupName: 'g1', groupKey: G1_KEY });
/** A token naming only a group name: the emulator derives the key `gk-g2`. */
export const V3_U4_G2 = createDevToken({ userId: 'u4', userName: 'dave', groupName: 'g2' });

/** A v3 request: `path` is relative to {@link V3}; the token defaults to {@link V3_U1}. */
export function v3(emulator: Emulator, method: string, path: string, init: RequestInit2 = {}): Promise<TestResponse> {
  return call(emulator, method, `${V3}${path}`, { ...init, token: init.token === undefined ? V3_U1 : init.token });
}

/** Creates a GROUP-scoped run of g1 over v3 and returns its view. */
export async function createV3Run(emulator: Emulator, body: Record<string, unknown> = {}, token = V3_U1): Promise<any> {
  const response = await v3(emulator, 'POST', 'run', {
    token,
    body: { scope: { scopeBoundary: 'GROUP', scopeKey: G1_KEY }, morphology: 'MANY', modelFile: 'model.py', ...body },
  });
  if (response.status !== 201) throw new Error(`v3 create failed: ${response.status} ${response.text}`);
  return response.body;
}

/** Expects a v3 fault answer: JSON `{ status, message, information: { code } }`. */
export function fault(status: number, code: string): Record<string, unknown> {
  return { status, message: expect.any(String), information: { code } };
}
