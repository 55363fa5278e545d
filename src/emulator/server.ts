/**
 * The request pipeline: CORS, control API, identity, body, latency and faults, routing, the data
 * file and the log. Never throws out of the listener.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RunUser } from '../types.js';
import type { ApiContext } from './api-context.js';
import type { ControlRequest } from './control-routes.js';
import type { FaultRegistry } from './faults.js';
import {
  BodyTooLargeError,
  HttpError,
  errorReply,
  preflightReply,
  prepareReply,
  readBody,
  type Reply,
  type RequestBody,
  sendReply,
  setCorsHeaders,
  utf8Prefix,
} from './http.js';
import { type Identity, resolveIdentity } from './identity.js';
import type { OperationRegistry } from './operations.js';
import type { RequestLog } from './request-log.js';
import { handleRunRoute } from './run-routes.js';
import type { RunStore } from './store.js';
import type { FailFault, FaultSpec, RequestLogEntry } from './types.js';
import { asV3Fault, V3_CODES, type V3State, v3ErrorReply } from './v3-context.js';
import { handleV3Route } from './v3-routes.js';
import { handleMultiplayerRoute, MULTIPLAYER_RESOURCES } from './world-routes.js';

/** Everything the pipeline works with; owned by the emulator. */
export interface PipelineState {
  store: RunStore;
  log: RequestLog;
  faults: FaultRegistry;
  operations: OperationRegistry;
  tokens: Readonly<Record<string, RunUser>>;
  anonymous: boolean;
  bodyLimit: number;
  logBodyLimit: number;
  latency(): number;
  /** Aborted when the emulator closes: pending delays end and their requests are dropped. */
  signal: AbortSignal;
  /** Writes the data file when the store changed; on failure undoes the change, then throws. */
  persist(): void;
  control(request: ControlRequest): Reply;
  v3: V3State;
}

interface Target {
  path: string;
  query: URLSearchParams;
  segments: string[];
  /** Under `/api/v3/`: answers are v3 faults, and a token is always required. */
  v3: boolean;
}

function parseTarget(url: string): Target {
  const mark = url.indexOf('?');
  const path = mark < 0 ? url : url.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
  const segments = path.split('/');
  if (segments[0] === '') segments.shift();
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  return { path, query, segments, v3: segments[0] === 'api' && segments[1] === 'v3' };
}

const TIMER_SLACK_MS = 1.5;

/**
 * Waits until `deadline` (`performance.now()` time), false when `signal` aborts first. Node's timers
 * may fire a millisecond early, so the timer covers all but the last {@link TIMER_SLACK_MS} and
 * `setImmediate` turns finish: an answer never comes before the delay asked for.
 */
function sleepUntil(deadline: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      resolve(false);
    };
    const check = () => {
      const left = deadline - performance.now();
      if (left <= 0) {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      } else if (left > TIMER_SLACK_MS + 1) {
        timer = setTimeout(check, Math.floor(left - TIMER_SLACK_MS));
      } else {
        immediate = setImmediate(check);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** Never stored in the log: they carry credentials. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

function loggedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || SECRET_HEADERS.has(name)) continue;
    copy[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return copy;
}

/** A private copy when small, else the first bytes of its text. */
function loggedBody(body: RequestBody, limit: number): Pick<RequestLogEntry, 'body' | 'bodyTruncated' | 'bodyBytes'> {
  if (!body.present) return { body: undefined };
  if (body.partial || body.size > limit) {
    return { body: utf8Prefix(Buffer.from(body.text.slice(0, limit)), limit), bodyTruncated: true, bodyBytes: body.size };
  }
  // A copy: the parsed value may become part of a run, which later requests change.
  return { body: body.error === undefined ? structuredClone(body.value) : body.text };
}

function toReply(error: unknown, v3 = false): Reply {
  if (v3) return v3ErrorReply(error);
  if (error instanceof HttpError) return errorReply(error.status, error.message, error.headers);
  return errorReply(500, `emulator error: ${error instanceof Error ? error.message : String(error)}`);
}

/** Also after a failure; a write error undoes the change and answers 500. */
function persisted(state: PipelineState, reply: Reply, v3: boolean): Reply {
  try {
    state.persist();
    return reply;
  } catch (error) {
    const failed = errorReply(500, `cannot write the data file, so the change was undone: ${(error as Error).message}`);
    return v3 ? asV3Fault(failed) : failed;
  }
}

function failReply(fault: FailFault, v3: boolean): Reply {
  const message = `injected fault: HTTP ${fault.status}`;
  const code = fault.code ?? (v3 ? V3_CODES.injected : undefined);
  return {
    status: fault.status,
    body: fault.body === undefined ? errorReply(fault.status, message, undefined, code).body : fault.body,
    ...(fault.headers ? { headers: fault.headers } : {}),
  };
}

async function route(
  state: PipelineState,
  request: IncomingMessage,
  method: string,
  target: Target,
  identity: Identity,
  body: RequestBody,
): Promise<Reply> {
  const [root, api, ...rest] = target.segments;
  const context: ApiContext = {
    method,
    query: target.query,
    headers: request.headers,
    body,
    user: identity.user,
    store: state.store,
    operations: state.operations,
  };
  if (target.v3) {
    // v3 paths never end in a slash: a client that adds one has a bug the real server would show.
    if (target.path.endsWith('/')) {
      throw new HttpError(404, `v3 paths take no trailing slash: ${target.path.slice(0, 200)}`, undefined, V3_CODES.routeNotFound);
    }
    return handleV3Route(context, rest, identity, state.v3);
  }
  const isRun = root === 'v2' && api === 'run';
  const isMultiplayer = root === 'v2' && api === 'multiplayer' && rest[0] !== undefined && MULTIPLAYER_RESOURCES.has(rest[0]);
  if (!isRun && !isMultiplayer) throw new HttpError(404, `no route for ${method} ${target.path.slice(0, 200)}`);
  if (identity.auth === 'invalid') throw new HttpError(401, 'the bearer token is neither a known token nor a JWT with user_id');
  if (identity.auth === 'none' && !state.anonymous) {
    throw new HttpError(401, 'Authorization: Bearer <token> is required', { 'WWW-Authenticate': 'Bearer' });
  }
  return isRun ? handleRunRoute(context, rest) : handleMultiplayerRoute({ ...context, v3: state.v3 }, rest);
}

/**
 * What happened to one request. `finish` logs it exactly once, just before the response is sent (so
 * a client in the same process finds it logged once it has the answer) or when the connection closes.
 */
interface Outcome {
  faults: string[];
  body: Pick<RequestLogEntry, 'body' | 'bodyTruncated' | 'bodyBytes'>;
  finish(status: number, aborted: boolean): void;
}

async function answerApi(
  state: PipelineState,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  target: Target,
  identity: Identity,
  outcome: Outcome,
  arrived: number,
): Promise<void> {
  const send = (reply: Reply, truncate = false) => {
    const prepared = prepareReply(reply, truncate);
    outcome.finish(prepared.status, res.destroyed);
    sendReply(res, prepared);
  };
  const close = (status: number) => {
    outcome.finish(status, true);
    req.socket.destroy();
  };
  // A request without a valid token is refused whatever its body says: keep no more of it than the log shows.
  const refused = identity.auth === 'invalid' || (identity.auth === 'none' && (target.v3 || !state.anonymous));
  let body: RequestBody;
  try {
    body = await readBody(req, state.bodyLimit, refused ? state.logBodyLimit : state.bodyLimit);
  } catch (error) {
    if (error instanceof BodyTooLargeError) outcome.body = { body: undefined, bodyTruncated: true, bodyBytes: error.bytes };
    // The rest of the body is not wanted: the connection closes once the refusal is sent.
    res.setHeader('Connection', 'close');
    send(toReply(error, target.v3));
    return;
  }
  outcome.body = loggedBody(body, state.logBodyLimit);
  if (method === 'OPTIONS') {
    send(preflightReply(target.v3));
    return;
  }
  const slow = state.faults.takeSlow(method, target.path);
  if (slow) outcome.faults.push(`slow:${slow.delayMs}`);
  // The delay counts from the request's arrival: latency L means the answer leaves L ms after the request came in.
  const delay = state.latency() + (slow?.delayMs ?? 0);
  if (delay > 0 && !(await sleepUntil(arrived + delay, state.signal))) {
    close(0);
    return;
  }
  const fault: FaultSpec | undefined = state.faults.takeTerminal(method, target.path);
  if (fault?.kind === 'fail') {
    outcome.faults.push(`fail:${fault.status}`);
    send(failReply(fault, target.v3));
    return;
  }
  if (fault?.kind === 'drop' && fault.when !== 'after') {
    outcome.faults.push('drop:before');
    close(0);
    return;
  }
  const reply = persisted(
    state,
    await route(state, req, method, target, identity, body).catch((error: unknown) => toReply(error, target.v3)),
    target.v3,
  );
  if (fault?.kind === 'drop') {
    outcome.faults.push('drop:after');
    close(reply.status);
  } else if (fault?.kind === 'truncate') {
    outcome.faults.push('truncate');
    send(reply, true);
  } else {
    send(reply);
  }
}

async function answerControl(
  state: PipelineState,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  target: Target,
): Promise<void> {
  let body: RequestBody;
  try {
    body = await readBody(req, state.bodyLimit);
  } catch (error) {
    res.setHeader('Connection', 'close');
    sendReply(res, prepareReply(toReply(error)));
    return;
  }
  let reply: Reply;
  try {
    reply =
      method === 'OPTIONS' ? preflightReply() : state.control({ method, segments: target.segments.slice(1), query: target.query, body });
  } catch (error) {
    reply = toReply(error);
  }
  sendReply(res, prepareReply(persisted(state, reply, false)));
}

/** The `request` listener of the emulator's HTTP server. */
export function createRequestListener(state: PipelineState): RequestListener {
  let nextSeq = 1;
  return (req, res) => {
    const started = performance.now();
    const time = new Date().toISOString();
    const seq = nextSeq;
    nextSeq += 1;
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const target = parseTarget(url);
    setCorsHeaders(req, res);
    if (target.segments[0] === '_emulator') {
      void answerControl(state, req, res, method, target).catch(() => res.destroy());
      return;
    }
    const identity = resolveIdentity(req.headers.authorization, state.tokens);
    let finished = false;
    const outcome: Outcome = {
      faults: [],
      body: { body: undefined },
      finish(status, aborted) {
        if (finished) return;
        finished = true;
        state.log.add({
          seq,
          time,
          method,
          path: target.path,
          url,
          query: Object.fromEntries(target.query),
          headers: loggedHeaders(req.headers),
          user: identity.user?.id ?? null,
          auth: identity.auth,
          ...outcome.body,
          status,
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
          ...(outcome.faults.length > 0 ? { fault: outcome.faults.join(',') } : {}),
          aborted,
        });
      },
    };
    void answerApi(state, req, res, method, target, identity, outcome, started).catch(() => {
      outcome.finish(0, true);
      res.destroy();
    });
  };
}
