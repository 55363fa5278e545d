/** What a v3 route handler gets, the v3 fault shape and the request-reading helpers the v3 routes share. */
import type { RunUser, World } from '../types.js';
import { type ApiContext, objectBody } from './api-context.js';
import { errorReply, HttpError, type Reply } from './http.js';
import { decodeComponent } from './matrix.js';
import type { SessionRegistry } from './v3-sessions.js';
import type { EmulatorSettings } from './types.js';

/** The authenticated v3 caller: the token's user, the token and the group it names. */
export interface V3Caller {
  user: RunUser;
  token: string;
  groupName?: string;
  groupKey?: string;
}

/** The v3 state the emulator owns besides the store: switches and the token registry. */
export interface V3State {
  settings: EmulatorSettings;
  sessions: SessionRegistry;
}

/** One v3 request under `/api/v3/{account}/{project}/`, authenticated. */
export interface V3Context extends ApiContext {
  account: string;
  project: string;
  caller: V3Caller;
  v3: V3State;
}

/** Codes of the v3 faults the emulator answers (`information.code`). */
export const V3_CODES = {
  authenticationRequired: 'AUTHENTICATION_REQUIRED',
  authenticationInvalid: 'AUTHENTICATION_INVALID',
  authenticationInvalidated: 'AUTHENTICATION_INVALIDATED',
  badRequest: 'BAD_REQUEST',
  routeNotFound: 'ROUTE_NOT_FOUND',
  runNotFound: 'RUN_NOT_FOUND',
  worldNotFound: 'WORLD_NOT_FOUND',
  groupNotFound: 'GROUP_NOT_FOUND',
  variableNotFound: 'VARIABLE_NOT_FOUND',
  notInGroup: 'NOT_IN_GROUP',
  notInWorld: 'NOT_IN_WORLD',
  selfAssignDisabled: 'WORLD_SELF_ASSIGN_DISABLED',
  operationFailed: 'OPERATION_FAILED',
  injected: 'INJECTED_FAULT',
} as const;

const DEFAULT_CODES: Readonly<Record<number, string>> = {
  400: V3_CODES.badRequest,
  401: V3_CODES.authenticationRequired,
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'REQUEST_TOO_LARGE',
  500: 'INTERNAL_ERROR',
};

/** The code a v3 fault of `status` carries when its thrower named none. */
export function defaultCode(status: number): string {
  return DEFAULT_CODES[status] ?? `HTTP_${status}`;
}

/** A v3 refusal: `{ status, message, information: { code } }`. */
export function v3Fault(status: number, code: string, message: string, headers?: Record<string, string>): HttpError {
  return new HttpError(status, message, headers, code);
}

/** Any error as a v3 fault reply; route errors without a code get the one of their status. */
export function v3ErrorReply(error: unknown): Reply {
  if (error instanceof HttpError) return errorReply(error.status, error.message, error.headers, error.code ?? defaultCode(error.status));
  return errorReply(500, `emulator error: ${error instanceof Error ? error.message : String(error)}`, undefined, defaultCode(500));
}

/** A v3 answer built from a v2-shaped error reply (`{ status, message }`), adding its code. */
export function asV3Fault(reply: Reply): Reply {
  const body = reply.body as { status?: unknown; message?: unknown; information?: unknown } | undefined;
  if (reply.status < 400 || body === undefined || body.information !== undefined) return reply;
  return { ...reply, body: { ...body, information: { code: defaultCode(reply.status) } } };
}

/** The body as a JSON object; an empty body is `{}` (v3 bodies are mostly optional fields). */
export function v3Body(context: V3Context, what: string): Record<string, unknown> {
  return objectBody(context, what, {});
}

/** A decoded, non-empty path segment, else 400. */
export function segment(raw: string | undefined, what: string): string {
  const value = decodeComponent(raw ?? '');
  if (value === '') throw v3Fault(400, V3_CODES.badRequest, `${what} must not be empty`);
  return value;
}

/** `;`-joined names (or an array of names) as a list; undefined when absent. */
export function nameList(value: unknown, what: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const parts = typeof value === 'string' ? value.split(';') : Array.isArray(value) ? value : null;
  if (parts === null || !parts.every((part) => typeof part === 'string')) {
    throw v3Fault(400, V3_CODES.badRequest, `${what} must be a ';'-joined string or an array of strings`);
  }
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw v3Fault(400, V3_CODES.badRequest, `${field} must be a string`);
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw v3Fault(400, V3_CODES.badRequest, `${field} must be a boolean`);
  return value;
}

/** The world, when it exists in the request's project; else 404. */
export function findWorld(context: V3Context, worldKey: string): World {
  const world = context.store.getWorld(worldKey);
  if (!world || world.account !== context.account || world.project !== context.project) {
    throw v3Fault(404, V3_CODES.worldNotFound, `world ${worldKey} not found in ${context.account}/${context.project}`);
  }
  return world;
}

export function isMember(world: World, userId: string): boolean {
  return (world.users ?? []).some((user) => user.userId === userId);
}
