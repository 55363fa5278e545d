/** What an API route handler gets, and the request-reading helpers the routes share. */
import type { IncomingHttpHeaders } from 'node:http';
import type { RunUser } from '../types.js';
import { HttpError, type RequestBody } from './http.js';
import type { OperationRegistry } from './operations.js';
import { isRecord } from './record-paths.js';
import type { RunStore } from './store.js';

/** One API request, parsed, with the state it acts on. */
export interface ApiContext {
  method: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: RequestBody;
  /** Null when anonymous requests are allowed and no token was sent. */
  user: RunUser | null;
  store: RunStore;
  operations: OperationRegistry;
}

/** The request body as a JSON object (else 400); an empty body gives `emptyAs` when provided. */
export function objectBody(context: Pick<ApiContext, 'body'>, what: string, emptyAs?: Record<string, unknown>): Record<string, unknown> {
  const { body } = context;
  if (!body.present) {
    if (emptyAs) return emptyAs;
    throw new HttpError(400, `the body must be a JSON object (${what})`);
  }
  if (body.error !== undefined) throw new HttpError(400, `the body is not valid JSON: ${body.error}`);
  if (!isRecord(body.value)) throw new HttpError(400, `the body must be a JSON object (${what})`);
  return body.value;
}

/** The 405 refusal, listing the allowed methods in `Allow`. */
export function methodNotAllowed(method: string, allowed: readonly string[]): HttpError {
  return new HttpError(405, `${method} is not allowed here (allowed: ${allowed.join(', ')})`, { Allow: allowed.join(', ') });
}

/** An optional object field of a body: absent or null → null; an object → it; else 400. */
export function optionalObject(body: Record<string, unknown>, field: string): Record<string, unknown> | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) throw new HttpError(400, `${field} must be an object`);
  return value;
}

export function requiredModel(body: Record<string, unknown>): string {
  const { model } = body;
  if (typeof model !== 'string' || model === '') throw new HttpError(400, 'model is required (a non-empty string)');
  return model;
}
