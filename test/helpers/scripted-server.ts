/**
 * A scripted HTTP server on 127.0.0.1 (random port) for tests that cross HTTP: queue responses, or
 * install a handler `(request) => response`; every request is recorded (method, url, path, query,
 * headers, body), including whether the client closed the connection before the answer was sent.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One request as the server saw it.
 *
 * @example
 * ```ts
 * const [first]: RecordedRequest[] = server.requests;
 * expect(`${first?.method} ${first?.url}`).toBe('GET /v2/run/acme/sim/run1/');
 * ```
 */
export interface RecordedRequest {
  /** Position in the log, from 0. */
  index: number;
  method: string;
  /** Path and query as sent, e.g. `/v2/run/acme/sim/;saved=true/?sort=created`. */
  url: string;
  /** `url` before `?`. */
  path: string;
  /** `url` after `?` (`''` when none). */
  query: string;
  headers: IncomingHttpHeaders;
  /** Raw request body (`''` when none). */
  body: string;
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  json: unknown;
  /** Set when the client closed the connection before the response was complete. */
  clientClosed: boolean;
}

/**
 * What to answer. `json` wins over `body`; objects in `body` are sent as JSON too.
 *
 * @example
 * ```ts
 * server.enqueue({ status: 201, json: 'run2' }, { status: 503, headers: { 'Retry-After': '0' } }, { destroy: true });
 * ```
 */
export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Any value, JSON-serialised with `Content-Type: application/json` (a string becomes `"…"`). */
  json?: unknown;
  /** A string is sent raw (`text/plain` unless `headers` say otherwise); other values as JSON. */
  body?: unknown;
  /** Wait this long before answering (the answer is dropped if the client closes first). */
  delayMs?: number;
  /** Destroy the socket instead of answering (a network failure for the client). */
  destroy?: boolean;
}

/**
 * Answers one request.
 *
 * @example
 * ```ts
 * const handler: ScriptHandler = (req) => (req.method === 'POST' ? { status: 201, json: { id: 'r1' } } : { status: 404, json: {} });
 * ```
 */
export type ScriptHandler = (request: RecordedRequest) => ScriptedResponse | Promise<ScriptedResponse>;

/**
 * A running scripted server.
 *
 * @example
 * ```ts
 * const server: ScriptedServer = await startScriptedServer();
 * const api = createRunApi({ baseURL: server.baseURL, account: 'acme', project: 'sim' });
 * ```
 */
export interface ScriptedServer {
  /** `http://127.0.0.1:{port}/` */
  readonly origin: string;
  /** `{origin}v2/`, the API root to hand to the clients. */
  readonly baseURL: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Queues responses for the next requests (served before the handler, first in first out). */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Replaces the handler used when the queue is empty. */
  setHandler(handler: ScriptHandler): void;
  /** Clears the log and the queue. */
  reset(): void;
  /** Resolves once `predicate()` holds (polled), rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const NO_SCRIPT: ScriptHandler = (request) => ({
  status: 599,
  json: { message: `scripted-server: no response scripted for ${request.method} ${request.url}` },
});

function send(res: ServerResponse, response: ScriptedResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  const hasType = Object.keys(headers).some((key) => key.toLowerCase() === 'content-type');
  let payload = '';
  if (response.json !== undefined) {
    payload = JSON.stringify(response.json);
    if (!hasType) headers['Content-Type'] = 'application/json';
  } else if (typeof response.body === 'string') {
    payload = response.body;
    if (!hasType && payload !== '') headers['Content-Type'] = 'text/plain';
  } else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    if (!hasType) headers['Content-Type'] = 'application/json';
  }
  res.writeHead(response.status ?? 200, headers);
  res.end(payload);
}

/**
 * Starts a scripted server; `handler` answers whatever the queue does not.
 *
 * @example
 * ```ts
 * const server = await startScriptedServer((req) => ({ status: 200, json: { id: 'r1', path: req.path } }));
 * server.enqueue({ status: 503 }, { destroy: true });
 * // … point a client at server.baseURL …
 * expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
 * await server.close();
 * ```
 */
export async function startScriptedServer(handler: ScriptHandler = NO_SCRIPT): Promise<ScriptedServer> {
  let current = handler;
  const queue: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      const mark = url.indexOf('?');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body === '' ? undefined : JSON.parse(body);
      } catch {
        json = undefined;
      }
      const record: RecordedRequest = {
        index: requests.length,
        method: req.method ?? 'GET',
        url,
        path: mark === -1 ? url : url.slice(0, mark),
        query: mark === -1 ? '' : url.slice(mark + 1),
        headers: req.headers,
        body,
        json,
        clientClosed: false,
      };
      requests.push(record);
      let destroyedByScript = false;
      res.on('close', () => {
        if (!res.writableFinished && !destroyedByScript) record.clientClosed = true;
      });
      void (async () => {
        const response = queue.shift() ?? (await current(record));
        if (response.delayMs) await new Promise((resolve) => setTimeout(resolve, response.delayMs));
        if (res.destroyed || record.clientClosed) return;
        if (response.destroy) {
          destroyedByScript = true;
          req.socket.destroy();
          return;
        }
        send(res, response);
      })().catch((error: unknown) => {
        if (!res.headersSent) send(res, { status: 598, json: { message: `scripted-server handler failed: ${String(error)}` } });
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}/`;

  return {
    origin,
    baseURL: `${origin}v2/`,
    requests,
    enqueue: (...responses) => {
      queue.push(...responses);
    },
    setHandler: (next) => {
      current = next;
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    waitFor: async (predicate, timeoutMs = 2_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error('scripted-server: waitFor timed out');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
