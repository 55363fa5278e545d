/** HTTP plumbing of the emulator: the error route handlers throw, the reply shape, body reading, CORS and sending. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A refusal with an HTTP status; the server answers it as `{ "status": code, "message": "..." }`,
 * plus `information: { code }` when `code` is given (v3 answers always carry one).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string> | undefined;
  readonly code: string | undefined;

  constructor(status: number, message: string, headers?: Record<string, string>, code?: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
    this.code = code;
  }
}

/** What a route handler answers: a status, an optional JSON body and extra headers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function errorReply(status: number, message: string, headers?: Record<string, string>, code?: string): Reply {
  const body = code === undefined ? { status, message } : { status, message, information: { code } };
  return { status, body, ...(headers ? { headers } : {}) };
}

/**
 * A request body as read: `present` is false when empty; `value` is the parsed JSON, or `undefined`
 * with `error`. `partial` marks a body of which only the first bytes were kept (in `text`, unparsed).
 */
export interface RequestBody {
  present: boolean;
  text: string;
  value: unknown;
  error?: string;
  size: number;
  partial?: boolean;
}

/** The 413 refusal; `bytes` is the declared length, or what had arrived when it went over. */
export class BodyTooLargeError extends HttpError {
  readonly bytes: number;

  constructor(limit: number, bytes: number) {
    super(413, `request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
    this.bytes = bytes;
  }
}

/** The longest prefix of at most `max` bytes that ends on a character boundary, as text. */
export function utf8Prefix(bytes: Buffer, max: number): string {
  if (bytes.length <= max) return bytes.toString('utf8');
  let cut = max;
  // Continuation bytes look like 10xxxxxx: back off to the start of the character they belong to.
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut -= 1;
  return bytes.subarray(0, cut).toString('utf8');
}

/**
 * Reads the body and parses it as JSON. A body over `limit` is refused as soon as that is known, and
 * what arrived is let go; beyond `keep` bytes the rest is read but discarded and the result `partial`.
 */
export function readBody(req: IncomingMessage, limit: number, keep = limit): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError(limit, declared));
      return;
    }
    let chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks = [];
        reject(new BodyTooLargeError(limit, size));
        return;
      }
      if (kept >= keep) return;
      const part = kept + chunk.length > keep ? chunk.subarray(0, keep - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (failed) return;
      const bytes = Buffer.concat(chunks);
      chunks = [];
      if (size > keep)
        resolve({ present: true, text: utf8Prefix(bytes, keep), value: undefined, error: 'the body was not read', size, partial: true });
      else resolve(parseBody(bytes.toString('utf8'), size));
    });
    req.on('close', () => {
      if (!ended && !failed) {
        failed = true;
        reject(new HttpError(400, 'the request closed before its body was complete'));
      }
    });
    req.on('error', (error) => {
      if (!failed) {
        failed = true;
        reject(error);
      }
    });
  });
}

/** Deeper JSON would overflow `JSON.stringify`'s stack later. */
const MAX_DEPTH = 100;

function deeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

function parseBody(text: string, size: number): RequestBody {
  if (text.trim() === '') return { present: false, text, value: undefined, size };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { present: true, text, value: undefined, error: (error as Error).message, size };
  }
  if (deeperThan(value, MAX_DEPTH))
    return { present: true, text, value: undefined, error: `JSON nested deeper than ${MAX_DEPTH} levels`, size };
  return { present: true, text, value, size };
}

/** Request headers a browser may send cross-origin. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-AutoRestore, Range';
const ALLOWED_METHODS = 'GET, POST, PATCH, PUT, DELETE, OPTIONS';

/** The CORS headers of every response: the `Origin` echoed (or `*`), credentials allowed, `Content-Range` exposed. */
export function setCorsHeaders(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== '') {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
  } else {
    res.setHeader('Access-Control-Allow-Origin', '*');
  }
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Expose-Headers', 'Content-Range');
}

/** v3 clients send `X-Forio-Confirmation` with a run permit and never the v2 headers. */
const ALLOWED_HEADERS_V3 = 'Authorization, Content-Type, X-Forio-Confirmation';

/** The answer to a CORS preflight (of a v3 path when `v3`). */
export function preflightReply(v3 = false): Reply {
  return {
    status: 204,
    headers: {
      'Access-Control-Allow-Methods': ALLOWED_METHODS,
      'Access-Control-Allow-Headers': v3 ? ALLOWED_HEADERS_V3 : ALLOWED_HEADERS,
      'Access-Control-Max-Age': '600',
    },
  };
}

/** A reply ready for the wire (`text` undefined: no body). */
export interface PreparedReply {
  status: number;
  headers: Record<string, string>;
  text: string | undefined;
}

/**
 * Serializes a reply as JSON. With `truncate` (a fault) the status becomes 200 and only the first
 * half of the text is kept; a body that cannot be serialized becomes a 500.
 */
export function prepareReply(reply: Reply, truncate = false): PreparedReply {
  let text: string;
  try {
    text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  } catch (error) {
    return prepareReply(errorReply(500, `the response cannot be serialized as JSON: ${(error as Error).message}`));
  }
  const status = truncate ? 200 : reply.status;
  if (truncate) text = text.slice(0, Math.floor(text.length / 2));
  const headers = { ...reply.headers };
  if (reply.body !== undefined || truncate) headers['Content-Type'] = 'application/json; charset=utf-8';
  if (status === 204 || status === 304) return { status, headers, text: undefined };
  headers['Content-Length'] = String(Buffer.byteLength(text));
  return { status, headers, text };
}

/** Sends a prepared reply, unless the connection is already gone. */
export function sendReply(res: ServerResponse, prepared: PreparedReply): void {
  if (res.destroyed || res.writableEnded) return;
  for (const [name, value] of Object.entries(prepared.headers)) res.setHeader(name, value);
  res.statusCode = prepared.status;
  res.end(prepared.text);
}
