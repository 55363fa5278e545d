/** Who is calling: the bearer token looked up in the dev token table or decoded as an unverified JWT. */
import type { RunUser } from '../types.js';
import type { AuthKind } from './types.js';

/** The caller: how it authenticated and the user its token names (null for none/invalid). */
export interface Identity {
  auth: AuthKind;
  user: RunUser | null;
}

/** The user in a JWT's payload (`user_id`, `user_name`, names, `email`), signature unchecked; null when it is not such a JWT. */
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

/** Resolves an `Authorization` header: none, `bearer` (a dev token or a decodable JWT) with its user, or `invalid`. */
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

/** Options of {@link createDevToken}; any other field becomes a payload claim as it is. */
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
 * An unsigned JWT (`alg: none`) carrying `user_id`, `user_name` (and `group_name`) like an
 * Epicenter token; the emulator makes its `user_id` the run's `user.id`. For tests and demos only.
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
