/**
 * Runs, worlds and sessions the model tests share. Every run is plain JSON, so what the scripted
 * server sends is exactly what the planned outputs hold.
 */
import type { Run, World } from '../../../src/types.js';
import { MODEL } from './http-script.js';

export const session = { userId: 'u1', groupName: 'g1' };
export const config = { account: 'acme', project: 'sim', model: MODEL };

/** The user's earlier run (the one a session record or a query finds). */
export const existingRun: Run = { id: 'r-old', model: MODEL, user: { id: 'u1' }, scope: { group: 'g1' }, trashed: false };
export const trashedRun: Run = { ...existingRun, trashed: true };
/** The run a create makes. */
export const createdRun: Run = { id: 'r-new', model: MODEL, user: { id: 'u1' }, scope: { group: 'g1' } };

export const world: World = { id: 'w1', lastModified: '2024-03-01T00:00:00.000Z', users: [{ userId: 'u1' }] };
export const worldWithRun: World = { ...world, run: 'r-world' };
/** A world's run, as loaded. */
export const worldRunTagged: Run = { id: 'r-world', model: MODEL, scope: { group: 'g1', trackingKey: 'tk' } };
export const worldRunUntagged: Run = { id: 'r-world', model: MODEL, scope: { group: 'g1' } };
