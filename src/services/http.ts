/**
 * The request core of the Run API and World API clients: a timeout per attempt, full-jitter
 * retries for GETs only, the token read per request, every failure a secret-free `RunManagerError`.
 */
import { ofetch } from 'ofetch';
import { describeThrown, RunManagerError } from '../errors.js';
import type { RetryOptions, ServerOptions } from '../types.js';
import type { ApiClientOptions, FetchClient } from './api-types.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** One request as the clients describe it. */
export interface HttpRequestSpec {
  method: HttpMethod;
  /** Relative to `baseURL`, already percent-encoded (e.g. `run/acme/sim/abc/`). */
  path: string;
  /** Without `?`, already encoded. */
  query?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Aborts the request and any retry wait (`ABORTED`). */
  signal?: AbortSignal;
  /**
   * `json`: the 2xx body must be JSON (else `INVALID_RESPONSE`); `text`: the raw body; `json-or-none`:
   * like `json`, but a 204 has no body (`undefined`).
   */
  parse: 'json' | 'text' | 'json-or-none';
  /** Error type for a 404 of a request about one specific run. */
  notFoundType?: 'RUN_NOT_FOUND';
  /** `false`: a 401 never calls {@link HttpClientExtensions.onUnauthorized} (the request that renews the session itself). */
  reauthenticate?: boolean;
}

/** What a failed response said, as far as the client could read it. */
export interface HttpFault {
  status: number;
  /** The server's error code (a JSON fault's `information.code`, or its `code`). */
  code?: string;
  /** The server's message, secret-free and clipped. */
  message?: string;
}

/** Opt-in behaviour beyond the v2 clients'; without it a client behaves exactly as before. */
export interface HttpClientExtensions {
  /**
   * Error bodies are JSON faults `{ message, information: { code } }`: the message joins the error's
   * message and the code becomes `RunManagerError.code`.
   */
  jsonFaults?: boolean;
  /**
   * Called on a 401 at most once per request (the token the attempt carried is given). Resolving
   * `true` sends the request once more, with a freshly read token; `false` fails as usual. A rejection
   * fails the request `UNAUTHORIZED` (an `ABORTED` one passes through).
   */
  onUnauthorized?: (fault: HttpFault, context: { token: string | undefined; signal?: AbortSignal }) => Promise<boolean>;
}

export interface HttpResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

export interface HttpClient {
  /** Always ends with `/`. */
  readonly baseURL: string;
  /** Resolves with the 2xx response, after retries for GETs. */
  request<T>(spec: HttpRequestSpec): Promise<HttpResponse<T>>;
}

/** Defaults of {@link ApiClientOptions.timeout} and {@link ApiClientOptions.retry}. */
export const HTTP_DEFAULTS = {
  timeout: 15_000,
  retry: { retries: 2, baseDelayMs: 200, maxDelayMs: 2_000 },
} as const;

/** The API root with a trailing slash: `baseURL`, else built from `server` (default `https://api.forio.com/v2/`). */
export function resolveBaseURL(options: { baseURL?: string; server?: ServerOptions }): string {
  if (options.baseURL) return options.baseURL.endsWith('/') ? options.baseURL : `${options.baseURL}/`;
  const protocol = options.server?.protocol ?? 'https';
  const host = options.server?.host ?? 'api.forio.com';
  const version = (options.server?.versionPath ?? 'v2').replace(/^\/+|\/+$/g, '');
  return version ? `${protocol}://${host}/${version}/` : `${protocol}://${host}/`;
}

/** Percent-encodes one path segment; refuses an empty value and `.`/`..`, which URL parsing resolves away even encoded. */
export function pathSegment(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new RunManagerError(
      'INVALID_OPTIONS',
      `${what} is missing${value === undefined || value === '' ? '' : ` (got ${value === null ? 'null' : typeof value})`}`,
    );
  }
  if (value === '.' || value === '..') {
    throw new RunManagerError('INVALID_OPTIONS', `${what} cannot be '${value}'`);
  }
  return encodeURIComponent(value);
}

type AttemptFailure =
  | { kind: 'aborted'; cause: unknown }
  | { kind: 'timeout'; cause: unknown }
  | { kind: 'network'; cause: unknown }
  | { kind: 'status'; status: number; headers: Headers; cause: unknown; body?: unknown }
  | { kind: 'error'; error: RunManagerError };

function isRetryable(failure: AttemptFailure): boolean {
  if (failure.kind === 'timeout' || failure.kind === 'network') return true;
  if (failure.kind === 'status') return failure.status === 408 || failure.status === 429 || failure.status >= 500;
  return false;
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or `null`. */
function retryAfterMs(headers: Headers | undefined): number | null {
  const value = headers?.get('retry-after')?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One token, or every token a request carried (a renewed session means two). */
type Secrets = string | undefined | ReadonlyArray<string | undefined>;

function redact(text: string, token: Secrets): string {
  if (typeof token !== 'string' && token !== undefined) return token.reduce<string>((out, one) => redact(out, one), text);
  return token ? text.split(token).join('[redacted]') : text;
}

/**
 * A secret-free stand-in for an error: name, redacted message, `status`/`code`, one level of
 * `cause`. ofetch's `FetchError` references the request options (with `Authorization`), so it is never kept.
 */
function scrubError(value: unknown, token: Secrets, depth = 0): Error {
  try {
    const source = value as { name?: unknown; message?: unknown; code?: unknown; status?: unknown; cause?: unknown } | null;
    const name = typeof source?.name === 'string' ? source.name : 'Error';
    const scrubbed = new Error(redact(describeThrown(value), token)) as Error & { code?: string; status?: number };
    scrubbed.name = name;
    if (typeof source?.code === 'string' || typeof source?.code === 'number') scrubbed.code = String(source.code);
    if (typeof source?.status === 'number') scrubbed.status = source.status;
    if (depth < 1 && source?.cause !== undefined && source.cause !== null) {
      scrubbed.cause = scrubError(source.cause, token, depth + 1);
    }
    return scrubbed;
  } catch {
    // Hostile getters (a custom fetch may throw anything) leave only the fact of the failure.
    return new Error('a thrown value that cannot be printed');
  }
}

/**
 * Added to a 401/403 when no attempt carried a token: the usual cause is a missing session, not a
 * bad one, and the status alone does not say where the token comes from.
 */
function noTokenHint(token: Secrets, customFetch: boolean): string {
  const sent = typeof token === 'string' || (token !== undefined && token.some((one) => one !== undefined));
  if (sent) return '';
  // A custom fetch instance may add its own Authorization header, which the library cannot see.
  const given = customFetch ? 'the library was given no token (your fetch instance may have sent its own)' : 'no token was sent';
  return (
    `; ${given}: pass run.token, or a session with auth_token (by default the session comes from the ` +
    'epicenterjs.session cookie, on Epicenter v3 from the com.forio.epicenter.session cookie)'
  );
}

/** A body JSON cannot encode would fail inside fetch and look like a network error: say so before any request. */
function assertSerializable(spec: HttpRequestSpec): void {
  try {
    JSON.stringify(spec.body);
  } catch (error) {
    throw new RunManagerError(
      'INVALID_OPTIONS',
      `${spec.method} ${spec.path}: the request body cannot be sent as JSON (${describeThrown(error)})`,
    );
  }
}

/** Longest delay a timer can wait (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

function checkDuration(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new RunManagerError(
      'INVALID_OPTIONS',
      `${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS}, got ${String(value)}`,
    );
  }
}

/** The `message` and `information.code` (or `code`) of a JSON fault body; nothing when it is not one. */
export function readJsonFault(body: unknown, token: Secrets): { code?: string; message?: string } {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return {};
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const fault = value as { message?: unknown; code?: unknown; information?: unknown };
  const information = fault.information as { code?: unknown } | null | undefined;
  const code = typeof information?.code === 'string' ? information.code : typeof fault.code === 'string' ? fault.code : undefined;
  const message =
    typeof fault.message === 'string' && fault.message.trim() !== '' ? describeThrown(redact(fault.message, token)) : undefined;
  const read: { code?: string; message?: string } = {};
  if (code !== undefined && code !== '') read.code = redact(code, token).slice(0, 100);
  if (message !== undefined) read.message = message;
  return read;
}

/** Checked by shape, not class, to match any copy of ofetch. */
function responseOf(error: unknown): Response | undefined {
  if (!(error instanceof Error) || error.name !== 'FetchError') return undefined;
  const response = (error as { response?: unknown }).response;
  return response && typeof (response as Response).status === 'number' ? (response as Response) : undefined;
}

/** ofetch hands over raw text; an instance with its own `parseResponse` may hand over a parsed value, kept as it is. */
function parseBody<T>(spec: HttpRequestSpec, data: unknown, status: number): T {
  if (spec.parse === 'json-or-none' && status === 204) return undefined as T;
  if (typeof data !== 'string' && data !== undefined && data !== null) return data as T;
  const text = typeof data === 'string' ? data : '';
  if (spec.parse === 'text') return text as T;
  if (text.trim() === '') {
    throw new RunManagerError('INVALID_RESPONSE', `${spec.method} ${spec.path}: empty response body, expected JSON (HTTP ${status})`, {
      status,
    });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new RunManagerError('INVALID_RESPONSE', `${spec.method} ${spec.path}: response is not JSON (HTTP ${status})`, { status });
  }
}

const NO_EXTENSIONS: HttpClientExtensions = {};

/**
 * The request core of `createRunApi` and `createWorldApi`, on the caller's ofetch instance (its hooks
 * stay in force). GETs are retried on 408, 429, 5xx, network errors and timeouts; other methods never,
 * so a create is never sent twice. Failures are typed (`UNAUTHORIZED` for 401/403, `notFoundType` for
 * 404, `HTTP_ERROR`, `NETWORK_ERROR`, `TIMEOUT`, `ABORTED`, `INVALID_RESPONSE`) and never contain the token.
 */
export function createHttpClient(options: ApiClientOptions, extensions: HttpClientExtensions = NO_EXTENSIONS): HttpClient {
  return new RequestCore(options, extensions);
}

/** A class, not closures: every manager holds one, and its methods then cost nothing per instance. */
class RequestCore implements HttpClient {
  readonly baseURL: string;
  readonly #options: ApiClientOptions;
  readonly #extensions: HttpClientExtensions;
  readonly #fetch: FetchClient;
  readonly #timeout: number;
  readonly #retry: Required<RetryOptions>;

  constructor(options: ApiClientOptions, extensions: HttpClientExtensions) {
    const timeout = options.timeout ?? HTTP_DEFAULTS.timeout;
    const retry: Required<RetryOptions> = {
      retries: options.retry?.retries ?? HTTP_DEFAULTS.retry.retries,
      baseDelayMs: options.retry?.baseDelayMs ?? HTTP_DEFAULTS.retry.baseDelayMs,
      maxDelayMs: options.retry?.maxDelayMs ?? HTTP_DEFAULTS.retry.maxDelayMs,
    };
    checkDuration('timeout', timeout, 1);
    checkDuration('retry.baseDelayMs', retry.baseDelayMs, 0);
    checkDuration('retry.maxDelayMs', retry.maxDelayMs, 0);
    if (!Number.isInteger(retry.retries) || retry.retries < 0) {
      throw new RunManagerError('INVALID_OPTIONS', `retry.retries must be a whole number >= 0, got ${String(retry.retries)}`);
    }
    this.baseURL = resolveBaseURL({ baseURL: options.baseURL });
    this.#options = options;
    this.#extensions = extensions;
    this.#fetch = options.fetch ?? ofetch.create({});
    this.#timeout = timeout;
    this.#retry = retry;
  }

  async request<T>(spec: HttpRequestSpec): Promise<HttpResponse<T>> {
    const what = `${spec.method} ${spec.path}`;
    if (spec.signal?.aborted) {
      throw new RunManagerError('ABORTED', `${what} was aborted`, { cause: scrubError(spec.signal.reason, undefined) });
    }
    const url = `${this.baseURL}${spec.path}${spec.query ? `?${spec.query}` : ''}`;
    const retry = this.#retry;
    const maxAttempts = spec.method === 'GET' ? retry.retries + 1 : 1;
    if (spec.body !== undefined) assertSerializable(spec);

    // Every token this request carried: after a renewed session the error may mention either.
    const tokens: Array<string | undefined> = [];
    let reauthenticated = false;
    for (let attemptIndex = 0; ; attemptIndex += 1) {
      const token = this.#readToken();
      if (!tokens.includes(token)) tokens.push(token);
      const secrets = tokens.length === 1 ? token : tokens;
      const outcome = await this.#attempt(spec, url, token);
      let failure: AttemptFailure;
      if (outcome.ok) {
        if (outcome.status >= 200 && outcome.status < 300) {
          return { data: parseBody<T>(spec, outcome.data, outcome.status), status: outcome.status, headers: outcome.headers };
        }
        failure = { kind: 'status', status: outcome.status, headers: outcome.headers, cause: `HTTP ${outcome.status}`, body: outcome.data };
        if (!this.#mayReauthenticate(spec, failure, reauthenticated)) throw this.#toError(spec, failure, attemptIndex + 1, secrets);
      } else {
        failure = outcome.failure;
      }
      if (failure.kind === 'status' && this.#mayReauthenticate(spec, failure, reauthenticated)) {
        reauthenticated = true;
        if (await this.#reauthenticate(spec, failure, token, secrets)) {
          // The refused attempt did nothing, so even a POST may be sent again; it uses no GET retry.
          attemptIndex -= 1;
          continue;
        }
        throw this.#toError(spec, failure, attemptIndex + 1, secrets);
      }
      if (attemptIndex + 1 >= maxAttempts || !isRetryable(failure)) throw this.#toError(spec, failure, attemptIndex + 1, secrets);

      const backoff = Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attemptIndex);
      const asked = failure.kind === 'status' ? retryAfterMs(failure.headers) : null;
      const delay = asked === null ? backoff : Math.min(retry.maxDelayMs, asked);
      try {
        await sleep(delay, spec.signal);
      } catch (reason) {
        throw new RunManagerError('ABORTED', `${what} was aborted while waiting to retry`, {
          cause: scrubError(reason, secrets),
        });
      }
    }
  }

  #readToken(): string | undefined {
    let token: unknown;
    try {
      token = this.#options.token?.();
    } catch (error) {
      throw new RunManagerError('UNAUTHORIZED', 'Reading the access token failed', { cause: scrubError(error, undefined) });
    }
    const trimmed = typeof token === 'string' ? token.trim() : '';
    return trimmed !== '' ? trimmed : undefined;
  }

  async #attempt(
    spec: HttpRequestSpec,
    url: string,
    token: string | undefined,
  ): Promise<{ ok: true; data: unknown; status: number; headers: Headers } | { ok: false; failure: AttemptFailure }> {
    const timeout = this.#timeout;
    // One controller for the caller's signal and our timeout, released when the attempt ends
    // (AbortSignal.timeout/any would keep the timer and signals alive for the whole timeout).
    const controller = new AbortController();
    // A fetch that ignores its signal would never settle: the attempt ends when the signal fires, whatever fetch does.
    let giveUp: (reason: unknown) => void = () => undefined;
    let timedOut = false;
    const abandon = (reason: unknown) => {
      controller.abort(reason);
      giveUp(reason);
      // Said at once, while the caller is still stopping: what it holds may wait for the server.
      if (spec.method !== 'GET') this.#options.onWriteAbandoned?.();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      abandon(new DOMException(`timed out after ${timeout} ms`, 'TimeoutError'));
    }, timeout);
    const onCallerAbort = () => abandon(spec.signal?.reason);
    spec.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const signal = controller.signal;
    const headers: Record<string, string> = { Accept: 'application/json', ...spec.headers };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await new Promise<Awaited<ReturnType<FetchClient['raw']>>>((resolve, reject) => {
        giveUp = reject;
        Promise.resolve(
          this.#fetch.raw(url, {
            method: spec.method,
            body: spec.body as Record<string, unknown> | undefined,
            headers,
            signal,
            retry: 0,
            responseType: 'text',
          }),
        ).then(resolve, reject);
      });
      return { ok: true, data: response._data, status: response.status, headers: response.headers };
    } catch (error) {
      if (spec.signal?.aborted) return { ok: false, failure: { kind: 'aborted', cause: spec.signal.reason } };
      if (error instanceof RunManagerError) return { ok: false, failure: { kind: 'error', error } };
      const response = responseOf(error);
      if (response) {
        const body = (response as { _data?: unknown })._data;
        return { ok: false, failure: { kind: 'status', status: response.status, headers: response.headers, cause: error, body } };
      }
      // ofetch wraps fetch() rejections in a FetchError; keep the underlying error instead.
      const underlying = error instanceof Error && error.name === 'FetchError' && error.cause !== undefined ? error.cause : error;
      if (timedOut) return { ok: false, failure: { kind: 'timeout', cause: underlying } };
      return { ok: false, failure: { kind: 'network', cause: underlying } };
    } finally {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  #faultOf(failure: AttemptFailure & { kind: 'status' }, token: Secrets): HttpFault {
    return { status: failure.status, ...(this.#extensions.jsonFaults ? readJsonFault(failure.body, token) : {}) };
  }

  #toError(spec: HttpRequestSpec, failure: AttemptFailure, attempts: number, token: Secrets): RunManagerError {
    const what = `${spec.method} ${spec.path}`;
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    switch (failure.kind) {
      case 'error':
        return failure.error;
      case 'aborted':
        return new RunManagerError('ABORTED', `${what} was aborted`, { cause: scrubError(failure.cause, token) });
      case 'timeout':
        return new RunManagerError('TIMEOUT', `${what} timed out after ${this.#timeout} ms${tries}`, {
          cause: scrubError(failure.cause, token),
        });
      case 'network': {
        const cause = scrubError(failure.cause, token);
        const detail = cause.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : cause.message;
        return new RunManagerError('NETWORK_ERROR', `${what} failed: network error (${detail})${tries}`, { cause });
      }
      case 'status': {
        const { status } = failure;
        const cause = scrubError(failure.cause, token);
        const hint = status === 401 || status === 403 ? noTokenHint(token, this.#options.fetch !== undefined) : '';
        if (this.#extensions.jsonFaults) {
          const { code, message: said } = this.#faultOf(failure, token);
          const detail =
            said === undefined && code === undefined ? '' : `: ${code !== undefined ? `[${code}] ` : ''}${said ?? ''}`.trimEnd();
          const message = `${what} failed: HTTP ${status}${tries}${detail}`;
          const details = code === undefined ? { status, cause } : { status, cause, code };
          if (status === 401 || status === 403) return new RunManagerError('UNAUTHORIZED', message + hint, details);
          if (status === 404 && spec.notFoundType) {
            return new RunManagerError(spec.notFoundType, `${message} (run not found)`, details);
          }
          return new RunManagerError('HTTP_ERROR', message, details);
        }
        const message = `${what} failed: HTTP ${status}${tries}`;
        if (status === 401 || status === 403) return new RunManagerError('UNAUTHORIZED', message + hint, { status, cause });
        if (status === 404 && spec.notFoundType) {
          return new RunManagerError(spec.notFoundType, `${message} (run not found)`, { status, cause });
        }
        return new RunManagerError('HTTP_ERROR', message, { status, cause });
      }
    }
  }

  #mayReauthenticate(spec: HttpRequestSpec, failure: AttemptFailure & { kind: 'status' }, done: boolean): boolean {
    return failure.status === 401 && this.#extensions.onUnauthorized !== undefined && spec.reauthenticate !== false && !done;
  }

  /** Asks the owner to renew the session; `true`: send the request again. */
  async #reauthenticate(
    spec: HttpRequestSpec,
    failure: AttemptFailure & { kind: 'status' },
    token: string | undefined,
    secrets: Secrets,
  ): Promise<boolean> {
    const fault = this.#faultOf(failure, secrets);
    try {
      return await this.#extensions.onUnauthorized!(fault, spec.signal ? { token, signal: spec.signal } : { token });
    } catch (error) {
      if (error instanceof RunManagerError && error.type === 'ABORTED') throw error;
      const refused = this.#toError(spec, failure, 1, secrets);
      const reason = redact(describeThrown(error), secrets);
      throw new RunManagerError('UNAUTHORIZED', `${refused.message}; renewing the session failed: ${reason}`, {
        status: failure.status,
        cause: error instanceof RunManagerError ? error : scrubError(error, secrets),
        ...(refused.code !== undefined ? { code: refused.code } : {}),
      });
    }
  }
}
