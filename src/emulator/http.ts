/**
 * HTTP plumbing of the emulator: the error type route handlers throw, the reply shape they
 * return, body reading, CORS headers and writing a reply to a `ServerResponse`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A refusal with an HTTP status. Route handlers throw it; the server turns it into the JSON body
 * `{ "status": code, "message": "..." }`.
 *
 * @example
 * ```ts
 * throw new HttpError(404, `run ${id} not found`);
 * ```
 */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, message: string, headers?: Record<string, string>) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

/**
 * What a route handler answers: a status, an optional JSON body (`undefined` = no body) and extra headers.
 *
 * @example
 * ```ts
 * const reply: Reply = { status: 201, body: run };
 * ```
 */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The JSON error reply for a status and message.
 *
 * @example
 * ```ts
 * errorReply(400, 'model is required'); // { status: 400, body: { status: 400, message: 'model is required' } }
 * ```
 */
export function errorReply(status: number, message: string, headers?: Record<string, string>): Reply {
  return { status, body: { status, message }, ...(headers ? { headers } : {}) };
}

/**
 * A request body as read from the wire: `present` is false for an empty body; `value` is the
 * parsed JSON, or `undefined` when the text is not JSON (then `error` says why). `size` is the
 * number of bytes received; `partial` marks a body of which only the first bytes were kept (in
 * `text`, unparsed).
 *
 * @example
 * ```ts
 * const body: RequestBody = { present: true, text: '{"model":"m"}', value: { model: 'm' }, size: 13 };
 * ```
 */
export interface RequestBody {
  present: boolean;
  text: string;
  value: unknown;
  error?: string;
  size: number;
  partial?: boolean;
}

/**
 * The 413 refusal of a body over the limit; `bytes` is its declared length, or what had arrived
 * when it went over.
 *
 * @example
 * ```ts
 * throw new BodyTooLargeError(1024, 4096);
 * ```
 */
export class BodyTooLargeError extends HttpError {
  readonly bytes: number;

  constructor(limit: number, bytes: number) {
    super(413, `request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
    this.bytes = bytes;
  }
}

/**
 * The longest prefix of `bytes` (at most `max` of them) that ends on a character boundary, as text.
 *
 * @example
 * ```ts
 * utf8Prefix(Buffer.from('héllo'), 2); // 'h' (the 2-byte 'é' does not fit)
 * ```
 */
export function utf8Prefix(bytes: Buffer, max: number): string {
  if (bytes.length <= max) return bytes.toString('utf8');
  let cut = max;
  // Continuation bytes look like 10xxxxxx: back off to the start of the character they belong to.
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut -= 1;
  return bytes.subarray(0, cut).toString('utf8');
}

/**
 * Reads the request body and parses it as JSON. A body over `limit` bytes is refused with
 * {@link BodyTooLargeError} as soon as that is known (from `Content-Length`, else once that many
 * bytes arrived), and what arrived is let go. Beyond `keep` bytes the rest is read but discarded
 * and the result is `partial` (for requests refused whatever their body holds).
 *
 * @example
 * ```ts
 * const body = await readBody(req, 8 * 1024 * 1024);
 * ```
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

/** Deepest JSON nesting accepted: deeper values would overflow the stack of `JSON.stringify` later. */
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

/** Request headers a browser may send cross-origin (spec §9). */
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-AutoRestore, Range';
const ALLOWED_METHODS = 'GET, POST, PATCH, PUT, DELETE, OPTIONS';

/**
 * Sets the CORS headers every response carries: the request's `Origin` echoed (or `*` without
 * one), credentials allowed and `Content-Range` exposed (spec §9).
 *
 * @example
 * ```ts
 * setCorsHeaders(req, res);
 * ```
 */
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

/**
 * The answer to a CORS preflight: 204 with the allowed methods and headers.
 *
 * @example
 * ```ts
 * if (req.method === 'OPTIONS') return sendReply(res, prepareReply(preflightReply()));
 * ```
 */
export function preflightReply(): Reply {
  return {
    status: 204,
    headers: {
      'Access-Control-Allow-Methods': ALLOWED_METHODS,
      'Access-Control-Allow-Headers': ALLOWED_HEADERS,
      'Access-Control-Max-Age': '600',
    },
  };
}

/**
 * A reply ready for the wire: final status, headers and body text (undefined = no body).
 *
 * @example
 * ```ts
 * const prepared = prepareReply({ status: 201, body: run });
 * sendReply(res, prepared);
 * ```
 */
export interface PreparedReply {
  status: number;
  headers: Record<string, string>;
  text: string | undefined;
}

/**
 * Serializes a reply: JSON body with `Content-Type` and `Content-Length`. With `truncate` the
 * status becomes 200 and only the first half of the JSON text is kept (a fault for clients to
 * survive). A body that cannot be serialized becomes a 500.
 *
 * @example
 * ```ts
 * prepareReply({ status: 200, body: runs, headers: { 'Content-Range': 'records 0-0/1' } });
 * ```
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

/**
 * Sends a prepared reply; does nothing when the connection is already gone.
 *
 * @example
 * ```ts
 * sendReply(res, prepareReply(errorReply(404, 'run r1 not found')));
 * ```
 */
export function sendReply(res: ServerResponse, prepared: PreparedReply): void {
  if (res.destroyed || res.writableEnded) return;
  for (const [name, value] of Object.entries(prepared.headers)) res.setHeader(name, value);
  res.statusCode = prepared.status;
  res.end(prepared.text);
}
