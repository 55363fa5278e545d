/**
 * The user session browsers keep in a cookie: Epicenter.js's `epicenterjs.session` on v2, the
 * official v3 client's `com.forio.epicenter.session` on v3. Both are URL-encoded JSON.
 */
import type { UserSession } from '../types.js';
import type { V3Session } from './v3.js';
import { isObject } from './values.js';

export const V2_SESSION_COOKIE = 'epicenterjs.session';
/** The cookie that holds the Epicenter v3 session in the browser. */
export const V3_SESSION_COOKIE = 'com.forio.epicenter.session';

interface CookieDocument {
  cookie?: unknown;
  location?: { hostname?: unknown };
}

function browserDocument(): CookieDocument | undefined {
  const document = (globalThis as { document?: CookieDocument }).document;
  return document && typeof document.cookie === 'string' ? document : undefined;
}

function readCookie(name: string): Record<string, unknown> | undefined {
  const cookie = browserDocument()?.cookie;
  if (typeof cookie !== 'string' || cookie === '') return undefined;
  for (const part of cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      const value: unknown = JSON.parse(decodeURIComponent(rest.join('=')));
      // The first cookie of a name is the one with the most specific path: the one in force.
      return isObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A v3 session in the library's terms: `token` → `auth_token`, `userKey` → `userId`; `groupKey`,
 * `groupName` and every other field as they are.
 */
export function fromV3Session(session: Record<string, unknown>): UserSession {
  const { token, userKey, ...rest } = session;
  const view: UserSession = { ...rest };
  if (typeof token === 'string' && token !== '') view.auth_token = token;
  if (typeof userKey === 'string' && userKey !== '') view.userId = userKey;
  return view;
}

/** The browser's session cookie for this API version, or `undefined` outside a browser or when unreadable. */
export function readSessionCookie(apiVersion: 2 | 3 = 2): UserSession | undefined {
  if (apiVersion === 2) return readCookie(V2_SESSION_COOKIE);
  const session = readCookie(V3_SESSION_COOKIE);
  return session ? fromV3Session(session) : undefined;
}

/**
 * Stores a renewed v3 session where the official client keeps it: the cookie's path is
 * `/app/{account}/{project}` on Forio's own domain and `/` on a custom one. Does nothing outside a browser.
 */
export function writeV3SessionCookie(session: V3Session, where: { account: string; project: string }): void {
  const document = browserDocument();
  if (!document) return;
  const hostname = typeof document.location?.hostname === 'string' ? document.location.hostname : '';
  const onForio = hostname === 'forio.com' || hostname.endsWith('.forio.com');
  const path = onForio ? `/app/${encodeURIComponent(where.account)}/${encodeURIComponent(where.project)}` : '/';
  document.cookie = `${V3_SESSION_COOKIE}=${encodeURIComponent(JSON.stringify(session))}; path=${path}; SameSite=Lax`;
}
