/**
 * Who is calling: the bearer token resolved through the dev token table or decoded as an
 * (unverified) JWT, plus `createDevToken` to mint such JWTs for tests and demos.
 */
import type { RunUser } from '../types.js';
import type { AuthKind } from './types.js';

/**
 * The caller: how it authenticated and the user its token names (null for none/invalid).
 *
 * @example
 * ```ts
 * const identity: Identity = { auth: 'bearer', user: { id: 'u1', userName: 'alice' } };
 * ```
 */
export interface Identity {
  auth: AuthKind;
  user: RunUser | null;
}

/**
 * Reads the user from a JWT's payload (`user_id`, `user_name`, and `first_name`, `last_name`,
 * `email` when present) without checking the signature; null when it is not such a JWT.
 *
 * @example
 * ```ts
 * decodeJwtUser(createDevToken({ userId: 'u1', userName: 'alice' })); // { id: 'u1', userName: 'alice' }
 * decodeJwtUser('nonsense'); // null
 * ```
 */
export function decodeJwtUser(token: string): RunUser | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === '') return null;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (payload === null || typeof payload !== 'object') return null;
  const claims = payload as Record<string, unknown>;
  const id = claims.user_id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') return null;
  const user: RunUser = { id: String(id) };
  const optional: Array<[keyof RunUser, string]> = [
    ['userName', 'user_name'],
    ['firstName', 'first_name'],
    ['lastName', 'last_name'],
    ['email', 'email'],
  ];
  for (const [field, claim] of optional) {
    const value = claims[claim];
    if (typeof value === 'string') user[field] = value;
  }
  return user;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Resolves an `Authorization` header: no header → `none`; a bearer token found in `tokens` or
 * decodable as a JWT → `bearer` with its user; anything else → `invalid`.
 *
 * @example
 * ```ts
 * resolveIdentity('Bearer tok-u1', { 'tok-u1': { id: 'u1' } }); // { auth: 'bearer', user: { id: 'u1' } }
 * resolveIdentity(undefined, {}); // { auth: 'none', user: null }
 * ```
 */
export function resolveIdentity(header: string | undefined, tokens: Readonly<Record<string, RunUser>>): Identity {
  if (header === undefined || header.trim() === '') return { auth: 'none', user: null };
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) return { auth: 'invalid', user: null };
  if (Object.hasOwn(tokens, token)) {
    const user = tokens[token] as RunUser;
    return { auth: 'bearer', user: { ...user } };
  }
  const user = decodeJwtUser(token);
  return user ? { auth: 'bearer', user } : { auth: 'invalid', user: null };
}

/**
 * Options of {@link createDevToken}; any other field becomes a claim of the payload as it is.
 *
 * @example
 * ```ts
 * const options: DevTokenOptions = { userId: 'u1', userName: 'alice', groupName: 'g1' };
 * ```
 */
export interface DevTokenOptions {
  userId: string;
  /** Defaults to `userId`. */
  userName?: string;
  groupName?: string;
  [claim: string]: unknown;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * Makes an unsigned JWT (`header.payload.signature`, `alg: none`) whose payload carries
 * `user_id`, `user_name` (and `group_name`), the shape Epicenter tokens have. The emulator accepts
 * it as a bearer token and makes its `user_id` the run's `user.id`. For tests and demos only.
 *
 * @example
 * ```ts
 * const token = createDevToken({ userId: 'u1', userName: 'alice' });
 * await fetch(`${emulator.baseURL}run/acme/sim/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: '{"model":"m.py"}' });
 * ```
 */
export function createDevToken(options: DevTokenOptions): string {
  const { userId, userName, groupName, ...claims } = options;
  const payload = {
    user_id: userId,
    user_name: userName ?? userId,
    ...(groupName === undefined ? {} : { group_name: groupName }),
    parent_account_id: null,
    iat: Math.floor(Date.now() / 1000),
    ...claims,
  };
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.${Buffer.from('unsigned').toString('base64url')}`;
}
