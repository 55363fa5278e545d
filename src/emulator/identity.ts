/** Who is calling: the bearer token looked up in the dev token table or decoded as an unverified JWT. */
import type { RunUser } from '../types.js';
import type { AuthKind } from './types.js';

/**
 * The caller: how it authenticated and the user its token names (null for none/invalid). For v3,
 * also the token itself and its group (`group_name`/`group_key` claims, or `groupName`/`groupKey`
 * of a token-table user); never logged.
 */
export interface Identity {
  auth: AuthKind;
  user: RunUser | null;
  token?: string;
  groupName?: string;
  groupKey?: string;
}

/** A JWT's payload object, signature unchecked; null when the token is not a three-part JWT with one. */
function decodeJwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === '') return null;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  return payload as Record<string, unknown>;
}

function userFromClaims(claims: Record<string, unknown>): RunUser | null {
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

/** The user in a JWT's payload (`user_id`, `user_name`, names, `email`), signature unchecked; null when it is not such a JWT. */
export function decodeJwtUser(token: string): RunUser | null {
  const claims = decodeJwtClaims(token);
  return claims ? userFromClaims(claims) : null;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function withGroup(identity: Identity, groupName: unknown, groupKey: unknown): Identity {
  const name = nonEmptyString(groupName);
  const key = nonEmptyString(groupKey);
  if (name !== undefined) identity.groupName = name;
  if (key !== undefined) identity.groupKey = key;
  return identity;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Resolves an `Authorization` header: none, `bearer` (a dev token or a decodable JWT) with its user, or `invalid`. */
export function resolveIdentity(header: string | undefined, tokens: Readonly<Record<string, RunUser>>): Identity {
  if (header === undefined || header.trim() === '') return { auth: 'none', user: null };
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) return { auth: 'invalid', user: null };
  if (Object.hasOwn(tokens, token)) {
    const user = tokens[token] as RunUser;
    return withGroup({ auth: 'bearer', user: { ...user }, token }, user.groupName, user.groupKey);
  }
  const claims = decodeJwtClaims(token);
  const user = claims ? userFromClaims(claims) : null;
  if (!claims || !user) return { auth: 'invalid', user: null };
  return withGroup({ auth: 'bearer', user, token }, claims.group_name, claims.group_key);
}

/** Options of {@link createDevToken}; any other field becomes a payload claim as it is. */
export interface DevTokenOptions {
  /** The user's id (claim `user_id`); the run's `user.id` and the v3 user key. */
  userId: string;
  /** Defaults to `userId`. */
  userName?: string;
  /** The user's group (claim `group_name`). */
  groupName?: string;
  /** The v3 group key (claim `group_key`); without it the emulator uses `gk-{groupName}` unless it learnt another key for the group. */
  groupKey?: string;
  [claim: string]: unknown;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * An unsigned JWT (`alg: none`) carrying `user_id`, `user_name` (and `group_name`, `group_key`) like
 * an Epicenter token; the emulator makes its `user_id` the run's `user.id` and the v3 `userKey`. For
 * tests and demos only.
 */
export function createDevToken(options: DevTokenOptions): string {
  const { userId, userName, groupName, groupKey, ...claims } = options;
  const payload = {
    user_id: userId,
    user_name: userName ?? userId,
    ...(groupName === undefined ? {} : { group_name: groupName }),
    ...(groupKey === undefined ? {} : { group_key: groupKey }),
    parent_account_id: null,
    iat: Math.floor(Date.now() / 1000),
    ...claims,
  };
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.${Buffer.from('unsigned').toString('base64url')}`;
}
