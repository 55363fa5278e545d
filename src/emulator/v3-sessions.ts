/**
 * v3 sessions: which tokens were invalidated by a world assignment change, `PATCH authentication`
 * (a fresh token for the same user) and `GET verification`. Kept in memory only: a restart forgets
 * invalidations, as a server restart would forget sessions.
 */
import { randomBytes } from 'node:crypto';
import type { Reply } from './http.js';
import { createDevToken } from './identity.js';
import { optionalString, type V3Caller, V3_CODES, type V3Context, v3Body, v3Fault } from './v3-context.js';
import { userDisplayName } from './v3-views.js';

/** The tokens each user sent to v3 routes, and those no longer accepted. */
export class SessionRegistry {
  private readonly tokensByUser = new Map<string, Set<string>>();
  private readonly invalid = new Set<string>();

  /** Remembers that `userId` uses `token`, so a later assignment change can invalidate it. */
  observe(token: string, userId: string): void {
    let tokens = this.tokensByUser.get(userId);
    if (!tokens) this.tokensByUser.set(userId, (tokens = new Set()));
    tokens.add(token);
  }

  isInvalidated(token: string): boolean {
    return this.invalid.has(token);
  }

  /** Invalidates every token seen for `userId`; returns how many were still valid. */
  invalidateUser(userId: string): number {
    let count = 0;
    for (const token of this.tokensByUser.get(userId) ?? []) {
      if (this.invalid.has(token)) continue;
      this.invalid.add(token);
      count += 1;
    }
    return count;
  }

  clear(): void {
    this.tokensByUser.clear();
    this.invalid.clear();
  }
}

/** Called after an assignment change of `userIds`: invalidates their tokens when the switch is on. */
export function assignmentsChanged(context: V3Context, userIds: Iterable<string>): void {
  if (!context.v3.settings.invalidateTokensOnAssignment) return;
  for (const userId of new Set(userIds)) context.v3.sessions.invalidateUser(userId);
}

/** The session object v3 answers for a caller and a token. */
export function sessionView(context: V3Context, caller: V3Caller): Record<string, unknown> {
  return {
    token: caller.token,
    userKey: caller.user.id,
    ...(caller.groupName === undefined ? {} : { groupName: caller.groupName, groupKey: caller.groupKey, groupRole: 'PARTICIPANT' }),
    displayName: userDisplayName(caller.user),
    objectType: 'user',
    accountShortName: context.account,
    projectShortName: context.project,
  };
}

/**
 * `PATCH authentication`: a new token for the same user, in the token's group or in another group
 * the emulator knows the key of (it keeps no membership list). Accepts an invalidated token: that
 * is how a client recovers from `AUTHENTICATION_INVALIDATED`.
 */
function regenerate(context: V3Context): Reply {
  const body = v3Body(context, '{ objectType: "user", groupKey }');
  if (body.objectType !== undefined && body.objectType !== 'user') {
    throw v3Fault(400, V3_CODES.badRequest, 'only objectType "user" sessions can be regenerated here');
  }
  const { caller, store, account, project } = context;
  const groupKey = optionalString(body, 'groupKey') ?? caller.groupKey;
  let groupName = caller.groupName;
  if (groupKey !== undefined && groupKey !== caller.groupKey) {
    groupName = store.groupNameOf(account, project, groupKey);
    if (groupName === undefined) throw v3Fault(404, V3_CODES.groupNotFound, `no group with key ${groupKey} in ${account}/${project}`);
  }
  const { user } = caller;
  const token = createDevToken({
    userId: user.id,
    ...(typeof user.userName === 'string' ? { userName: user.userName } : {}),
    ...(groupName === undefined ? {} : { groupName, groupKey }),
    ...(typeof user.firstName === 'string' ? { first_name: user.firstName } : {}),
    ...(typeof user.lastName === 'string' ? { last_name: user.lastName } : {}),
    ...(typeof user.email === 'string' ? { email: user.email } : {}),
    // Unique, so it is never one of the invalidated tokens.
    jti: randomBytes(12).toString('hex'),
  });
  context.v3.sessions.observe(token, user.id);
  const renewed: V3Caller = { user, token, ...(groupName === undefined ? {} : { groupName, groupKey }) };
  return { status: 200, body: sessionView(context, renewed) };
}

/** `PATCH authentication` and `GET verification`; other methods are 405. */
export function handleSessionRoute(context: V3Context, resource: 'authentication' | 'verification', tail: readonly string[]): Reply {
  if (tail.length > 0) throw v3Fault(404, V3_CODES.routeNotFound, `no route for ${resource}/${tail.join('/')}`);
  if (resource === 'authentication' && context.method === 'PATCH') return regenerate(context);
  if (resource === 'verification' && context.method === 'GET') return { status: 200, body: sessionView(context, context.caller) };
  const allowed = resource === 'authentication' ? 'PATCH' : 'GET';
  throw v3Fault(405, 'METHOD_NOT_ALLOWED', `${context.method} is not allowed here (allowed: ${allowed})`, { Allow: allowed });
}
