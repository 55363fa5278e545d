import { inspect } from 'node:util';
import { ofetch } from 'ofetch';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RunManagerError } from '../../src/errors.js';
import type { ApiClientOptions } from '../../src/services/api-types.js';
import { createHttpClient, pathSegment, resolveBaseURL, type HttpRequestSpec } from '../../src/services/http.js';
import { rejectionOf } from '../helpers/rejection.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const TOKEN = 'sekrit-token-0123456789';

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.reset();
  vi.restoreAllMocks();
});

function client(overrides: Partial<ApiClientOptions> = {}) {
  return createHttpClient({
    baseURL: server.baseURL,
    account: 'acme',
    project: 'sim',
    token: () => TOKEN,
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

const GET_RUN: HttpRequestSpec = { method: 'GET', path: 'run/acme/sim/abc/', parse: 'json', notFoundType: 'RUN_NOT_FOUND' };
const POST_CREATE: HttpRequestSpec = { method: 'POST', path: 'run/acme/sim/', body: { model: 'model.py' }, parse: 'json' };

const failure = rejectionOf;

function expectNoToken(error: RunManagerError): void {
  expect(error.message).not.toContain(TOKEN);
  expect(JSON.stringify(error)).not.toContain(TOKEN);
  expect(String(error.cause)).not.toContain(TOKEN);
  expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(TOKEN);
}

describe('resolveBaseURL', () => {
  it('baseURL wins over server and gets a trailing slash', () => {
    expect(resolveBaseURL({ baseURL: 'http://127.0.0.1:8080/v2', server: { host: 'x' } })).toBe('http://127.0.0.1:8080/v2/');
    expect(resolveBaseURL({ baseURL: 'http://127.0.0.1:8080/v2/' })).toBe('http://127.0.0.1:8080/v2/');
  });
  it('builds {protocol}://{host}/{versionPath}/ with defaults https, api.forio.com, v2', () => {
    expect(resolveBaseURL({})).toBe('https://api.forio.com/v2/');
    expect(resolveBaseURL({ server: { host: 'localhost:7777', protocol: 'http' } })).toBe('http://localhost:7777/v2/');
    expect(resolveBaseURL({ server: { versionPath: '/v3/' } })).toBe('https://api.forio.com/v3/');
    expect(resolveBaseURL({ server: { versionPath: '' } })).toBe('https://api.forio.com/');
  });
});

describe('pathSegment', () => {
  it('percent-encodes and rejects empty, non-string and dot segments', () => {
    expect(pathSegment('a b/c?d', 'run id')).toBe('a%20b%2Fc%3Fd');
    for (const bad of ['', undefined, null, 5, '.', '..']) {
      expect(() => pathSegment(bad, 'run id')).toThrow(RunManagerError);
    }
  });
});

describe('createHttpClient: requests', () => {
  it('GET: absolute URL from baseURL + path + query, parsed JSON, status and headers', async () => {
    server.enqueue({ status: 200, json: [{ id: 'r1' }], headers: { 'Content-Range': 'records 0-0/7' } });
    const response = await client().request<Array<{ id: string }>>({ ...GET_RUN, path: 'run/acme/sim/;a=1/', query: 'sort=created' });
    expect(response.data).toEqual([{ id: 'r1' }]);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-range')).toBe('records 0-0/7');
    expect(server.requests[0]?.url).toBe('/v2/run/acme/sim/;a=1/?sort=created');
    expect(server.requests[0]?.method).toBe('GET');
    expect(server.requests[0]?.body).toBe('');
  });

  it('POST: body as JSON with Content-Type application/json; extra headers are sent', async () => {
    server.enqueue({ status: 201, json: { id: 'r1' } });
    const response = await client().request({ ...POST_CREATE, headers: { 'X-Extra': 'yes' } });
    expect(response.status).toBe(201);
    const [request] = server.requests;
    expect(request?.json).toEqual({ model: 'model.py' });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-extra']).toBe('yes');
  });

  it('text parse: raw body, empty string for 204', async () => {
    server.enqueue({ status: 200, body: 'run2' }, { status: 204 });
    expect((await client().request<string>({ method: 'POST', path: 'x', parse: 'text' })).data).toBe('run2');
    expect((await client().request<string>({ method: 'DELETE', path: 'x', parse: 'text' })).data).toBe('');
  });
});

describe('createHttpClient: Authorization', () => {
  it('sends Bearer only for a non-empty token, read on every request', async () => {
    let token: string | undefined = 'first';
    const http = client({ token: () => token });
    for (let i = 0; i < 3; i += 1) server.enqueue({ json: {} });
    await http.request(GET_RUN);
    token = 'second';
    await http.request(GET_RUN);
    token = '';
    await http.request(GET_RUN);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer first', 'Bearer second', undefined]);
  });

  it('sends no Authorization without a token function', async () => {
    server.enqueue({ json: {} });
    await client({ token: undefined }).request(GET_RUN);
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('createHttpClient: timeouts and aborts', () => {
  it('a slow reply → TIMEOUT (no retries)', async () => {
    server.setHandler(() => ({ delayMs: 400, json: {} }));
    const error = await failure(client({ timeout: 40, retry: { retries: 0 } }).request(GET_RUN));
    expect(error.type).toBe('TIMEOUT');
    expect(error.message).toBe('GET run/acme/sim/abc/ timed out after 40 ms');
    expectNoToken(error);
    await server.waitFor(() => server.requests[0]?.clientClosed === true);
  });

  it('a fetch that ignores its signal and never settles still ends: TIMEOUT, or ABORTED for the caller', async () => {
    const deaf = ofetch.create({}, { fetch: () => new Promise<Response>(() => undefined) });
    const timedOut = await failure(client({ timeout: 40, retry: { retries: 0 }, fetch: deaf }).request(POST_CREATE));
    expect(timedOut.type).toBe('TIMEOUT');
    const controller = new AbortController();
    const pending = client({ timeout: 60_000, fetch: deaf }).request({ ...GET_RUN, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect((await failure(pending)).type).toBe('ABORTED');
  });

  it('TIMEOUT also when the caller passes its own (never aborted) signal', async () => {
    server.setHandler(() => ({ delayMs: 400, json: {} }));
    const controller = new AbortController();
    const error = await failure(client({ timeout: 40, retry: { retries: 0 } }).request({ ...GET_RUN, signal: controller.signal }));
    expect(error.type).toBe('TIMEOUT');
  });

  it('GET timeouts are retried, then TIMEOUT; a POST that times out is not retried', async () => {
    server.setHandler(() => ({ delayMs: 400, json: { id: 'r' } }));
    const http = client({ timeout: 40, retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await failure(http.request(GET_RUN));
    expect(error.type).toBe('TIMEOUT');
    expect(error.message).toContain('(2 attempts)');
    expect(server.requests).toHaveLength(2);
    server.reset();
    expect((await failure(http.request(POST_CREATE))).type).toBe('TIMEOUT');
    expect(server.requests).toHaveLength(1);
  });

  it('a GET that times out once and then answers succeeds', async () => {
    server.enqueue({ delayMs: 400, json: {} }, { json: { ok: true } });
    const response = await client({ timeout: 60 }).request(GET_RUN);
    expect(response.data).toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
  });

  it("the caller's abort → ABORTED, and the server sees the connection close", async () => {
    server.setHandler(() => ({ delayMs: 1_000, json: {} }));
    const controller = new AbortController();
    const pending = client().request({ ...GET_RUN, signal: controller.signal });
    await server.waitFor(() => server.requests.length === 1);
    controller.abort();
    const error = await failure(pending);
    expect(error.type).toBe('ABORTED');
    expect(error.message).toBe('GET run/acme/sim/abc/ was aborted');
    expectNoToken(error);
    await server.waitFor(() => server.requests[0]?.clientClosed === true);
    expect(server.requests).toHaveLength(1);
  });

  it('an already aborted signal → ABORTED without a request', async () => {
    const error = await failure(client().request({ ...GET_RUN, signal: AbortSignal.abort() }));
    expect(error.type).toBe('ABORTED');
    expect(server.requests).toHaveLength(0);
  });

  it('an abort during the retry wait → ABORTED, no further request', async () => {
    server.setHandler(() => ({ status: 503, headers: { 'Retry-After': '30' }, json: {} }));
    const controller = new AbortController();
    const pending = client({ retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 10_000 } }).request({
      ...GET_RUN,
      signal: controller.signal,
    });
    await server.waitFor(() => server.requests.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    const error = await failure(pending);
    expect(error.type).toBe('ABORTED');
    expect(error.message).toContain('while waiting to retry');
    expect(server.requests).toHaveLength(1);
  });
});

describe('createHttpClient: retries', () => {
  it('GET retries 503 and succeeds', async () => {
    server.enqueue({ status: 503, json: {} }, { status: 503, json: {} }, { json: { id: 'abc' } });
    expect((await client().request(GET_RUN)).data).toEqual({ id: 'abc' });
    expect(server.requests).toHaveLength(3);
  });

  it('GET retries 429 with Retry-After: 0 and 408', async () => {
    server.enqueue({ status: 429, headers: { 'Retry-After': '0' }, json: {} }, { status: 408, json: {} }, { json: { id: 'abc' } });
    expect((await client().request(GET_RUN)).data).toEqual({ id: 'abc' });
    expect(server.requests).toHaveLength(3);
  });

  it('GET retries a dropped connection and succeeds', async () => {
    server.enqueue({ destroy: true }, { json: { id: 'abc' } });
    expect((await client().request(GET_RUN)).data).toEqual({ id: 'abc' });
    expect(server.requests).toHaveLength(2);
  });

  it('respects the retry count: retries 2 → 3 requests, then the last error', async () => {
    server.setHandler(() => ({ status: 503, json: { message: 'busy' } }));
    const error = await failure(client().request(GET_RUN));
    expect(error).toMatchObject({ type: 'HTTP_ERROR', status: 503 });
    expect(error.message).toBe('GET run/acme/sim/abc/ failed: HTTP 503 (3 attempts)');
    expect(server.requests).toHaveLength(3);
  });

  it('retries 0 → one request', async () => {
    server.setHandler(() => ({ status: 500, json: {} }));
    await failure(client({ retry: { retries: 0 } }).request(GET_RUN));
    expect(server.requests).toHaveLength(1);
  });

  it('network failure after all retries → NETWORK_ERROR', async () => {
    server.setHandler(() => ({ destroy: true }));
    const error = await failure(client().request(GET_RUN));
    expect(error.type).toBe('NETWORK_ERROR');
    expect(error.message).toMatch(/^GET run\/acme\/sim\/abc\/ failed: network error \(.+\) \(3 attempts\)$/);
    expect(server.requests).toHaveLength(3);
    expectNoToken(error);
  });

  it('POST is never retried: 503 → HTTP_ERROR after one request', async () => {
    server.setHandler(() => ({ status: 503, json: {} }));
    const error = await failure(client().request(POST_CREATE));
    expect(error).toMatchObject({ type: 'HTTP_ERROR', status: 503, message: 'POST run/acme/sim/ failed: HTTP 503' });
    expect(server.requests).toHaveLength(1);
  });

  it('POST is never retried: a dropped connection → NETWORK_ERROR after one request', async () => {
    server.setHandler(() => ({ destroy: true }));
    expect((await failure(client().request(POST_CREATE))).type).toBe('NETWORK_ERROR');
    expect(server.requests).toHaveLength(1);
  });

  it('PATCH and DELETE are never retried', async () => {
    server.setHandler(() => ({ status: 502, json: {} }));
    await failure(client().request({ method: 'PATCH', path: 'run/acme/sim/abc/', body: { a: 1 }, parse: 'json' }));
    await failure(client().request({ method: 'DELETE', path: 'run/acme/sim/abc', parse: 'text' }));
    expect(server.requests.map((r) => r.method)).toEqual(['PATCH', 'DELETE']);
  });

  it('4xx other than 408/429 is not retried', async () => {
    server.setHandler(() => ({ status: 400, json: {} }));
    expect((await failure(client().request(GET_RUN))).status).toBe(400);
    expect(server.requests).toHaveLength(1);
  });

  it('Retry-After (seconds) is honoured up to maxDelayMs', async () => {
    server.enqueue({ status: 503, headers: { 'Retry-After': '3600' }, json: {} }, { json: {} });
    const started = Date.now();
    await client({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 60 } }).request(GET_RUN);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('Retry-After as an HTTP date in the past means no wait', async () => {
    server.enqueue({ status: 429, headers: { 'Retry-After': new Date(Date.now() - 60_000).toUTCString() }, json: {} }, { json: {} });
    const started = Date.now();
    await client({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 5_000 } }).request(GET_RUN);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('backoff is full jitter: random(0, min(maxDelayMs, baseDelayMs * 2^attempt))', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    server.enqueue({ status: 503, json: {} }, { status: 503, json: {} }, { json: {} });
    const started = Date.now();
    await client({ retry: { retries: 2, baseDelayMs: 30, maxDelayMs: 40 } }).request(GET_RUN);
    // ≈ 30 (first wait) + 40 (second wait, capped) ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(65);
  });
});

describe('createHttpClient: error mapping', () => {
  it.each([
    [401, 'UNAUTHORIZED'],
    [403, 'UNAUTHORIZED'],
    [404, 'RUN_NOT_FOUND'],
    [400, 'HTTP_ERROR'],
    [409, 'HTTP_ERROR'],
  ])('HTTP %i → %s with status, message naming method/path/status', async (status, type) => {
    server.setHandler(() => ({ status, json: { status, message: 'nope' } }));
    const error = await failure(client().request(GET_RUN));
    expect(error).toMatchObject({ type, status });
    expect(error.message).toContain(`GET run/acme/sim/abc/ failed: HTTP ${status}`);
    expectNoToken(error);
  });

  it.each([401, 403])('HTTP %i to a request without a token says how to pass one', async (status) => {
    server.setHandler(() => ({ status, json: { status, message: 'nope' } }));
    for (const token of [undefined, () => undefined, () => '  ']) {
      const error = await failure(client({ token }).request(GET_RUN));
      expect(error).toMatchObject({ type: 'UNAUTHORIZED', status });
      expect(error.message).toBe(
        `GET run/acme/sim/abc/ failed: HTTP ${status}; no token was sent: pass run.token, or a session with auth_token ` +
          '(by default the session comes from the epicenterjs.session cookie, on Epicenter v3 from the com.forio.epicenter.session cookie)',
      );
    }
    // With a token the hint would mislead: the token was sent and refused.
    const refused = await failure(client().request(GET_RUN));
    expect(refused.message).toBe(`GET run/acme/sim/abc/ failed: HTTP ${status}`);
    expectNoToken(refused);
  });

  it('HTTP 401 without a token through a custom fetch instance: the hint allows for a header the instance added', async () => {
    server.setHandler(() => ({ status: 401, json: {} }));
    const error = await failure(client({ token: undefined, fetch: ofetch.create({}) }).request(GET_RUN));
    expect(error.message).toMatch(
      /^GET run\/acme\/sim\/abc\/ failed: HTTP 401; the library was given no token \(your fetch instance may have sent its own\): pass run\.token, or a session with auth_token/,
    );
  });

  it('404 without notFoundType → HTTP_ERROR 404', async () => {
    server.setHandler(() => ({ status: 404, json: {} }));
    expect(await failure(client().request({ ...GET_RUN, notFoundType: undefined }))).toMatchObject({ type: 'HTTP_ERROR', status: 404 });
  });

  it('500 on GET → HTTP_ERROR 500 after retries', async () => {
    server.setHandler(() => ({ status: 500, json: { message: 'model failed' } }));
    expect(await failure(client().request(GET_RUN))).toMatchObject({ type: 'HTTP_ERROR', status: 500 });
  });

  it('an HTML 502 page → HTTP_ERROR 502', async () => {
    server.setHandler(() => ({ status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html><body>Bad Gateway</body></html>' }));
    const error = await failure(client({ retry: { retries: 0 } }).request(GET_RUN));
    expect(error).toMatchObject({ type: 'HTTP_ERROR', status: 502, message: 'GET run/acme/sim/abc/ failed: HTTP 502' });
  });

  it('a 200 that is not JSON → INVALID_RESPONSE', async () => {
    server.enqueue({ status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>hi</html>' });
    const error = await failure(client().request(GET_RUN));
    expect(error).toMatchObject({ type: 'INVALID_RESPONSE', status: 200 });
    expect(error.message).toBe('GET run/acme/sim/abc/: response is not JSON (HTTP 200)');
  });

  it('an empty 200 when JSON is expected → INVALID_RESPONSE', async () => {
    server.enqueue({ status: 200 });
    expect((await failure(client().request(GET_RUN))).type).toBe('INVALID_RESPONSE');
  });

  it('the error cause is a scrubbed Error, never ofetch’s FetchError with the request options', async () => {
    server.enqueue({ status: 500, json: {} });
    const error = await failure(client({ retry: { retries: 0 } }).request(GET_RUN));
    const cause = error.cause as Error & { status?: number; options?: unknown };
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe('FetchError');
    expect(cause.status).toBe(500);
    expect(cause.options).toBeUndefined();
    expectNoToken(error);
  });

  it('a token that is not a valid header value is redacted from the error', async () => {
    const bad = `${TOKEN}\nX-Injected: 1`;
    const error = await failure(client({ token: () => bad }).request(POST_CREATE));
    expect(error.type).toBe('NETWORK_ERROR');
    expectNoToken(error);
  });

  it('invalid timeout / retry options throw INVALID_OPTIONS at creation', () => {
    expect(() => client({ timeout: 0 })).toThrow(RunManagerError);
    expect(() => client({ timeout: Number.NaN })).toThrow(/timeout/);
    expect(() => client({ retry: { retries: -1 } })).toThrow(/retries/);
    expect(() => client({ retry: { maxDelayMs: Infinity } })).toThrow(/maxDelayMs/);
  });
});

describe('createHttpClient: custom ofetch instance', () => {
  it('keeps the instance hooks and defaults: onRequest adds a header, onResponseError still fires', async () => {
    const seen: number[] = [];
    const $fetch = ofetch.create({
      headers: { 'X-Default': 'd' },
      onRequest({ options }) {
        options.headers.set('X-From-Hook', 'hooked');
      },
      onResponseError({ response }) {
        seen.push(response.status);
      },
    });
    server.enqueue({ json: { id: 'abc' } }, { status: 503, json: {} }, { json: { id: 'abc' } });
    const http = client({ fetch: $fetch });
    await http.request(GET_RUN);
    await http.request(GET_RUN);
    expect(server.requests.map((r) => [r.headers['x-from-hook'], r.headers['x-default'], r.headers.authorization])).toEqual([
      ['hooked', 'd', `Bearer ${TOKEN}`],
      ['hooked', 'd', `Bearer ${TOKEN}`],
      ['hooked', 'd', `Bearer ${TOKEN}`],
    ]);
    expect(seen).toEqual([503]);
  });

  it('the instance’s own retry and timeout defaults are overridden (the library owns them)', async () => {
    const $fetch = ofetch.create({ retry: 5, retryDelay: 0, timeout: 1 });
    server.enqueue({ status: 503, json: {} }, { delayMs: 30, json: { ok: 1 } });
    const response = await client({ fetch: $fetch, retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } }).request(GET_RUN);
    expect(response.data).toEqual({ ok: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it('an instance with its own parseResponse: the parsed value is kept', async () => {
    const $fetch = ofetch.create({ parseResponse: (text: string) => ({ wrapped: JSON.parse(text) as unknown }) });
    server.enqueue({ json: { id: 'abc' } }, { json: 'run2' });
    const http = client({ fetch: $fetch });
    expect((await http.request(GET_RUN)).data).toEqual({ wrapped: { id: 'abc' } });
    expect((await http.request({ method: 'POST', path: 'x', parse: 'text' })).data).toEqual({ wrapped: 'run2' });
  });

  it('a RunManagerError thrown by a hook passes through unchanged', async () => {
    const hookError = new RunManagerError('UNAUTHORIZED', 'session expired');
    const $fetch = ofetch.create({
      onRequest() {
        throw hookError;
      },
    });
    expect(await failure(client({ fetch: $fetch }).request(GET_RUN))).toBe(hookError);
    expect(server.requests).toHaveLength(0);
  });
});
