/**
 * The request core of the Run API and World API clients: a timeout per attempt, full-jitter
 * retries for GETs only, the token read per request, every failure a secret-free `RunManagerError`.
 */
import { ofetch, type $Fetch } from 'ofetch';
import { describeThrown, RunManagerError } from '../errors.js';
import type { RetryOptions, ServerOptions } from '../types.js';
import type { ApiClientOptions } from './api-types.js';

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
  /** `json`: the 2xx body must be JSON (else `INVALID_RESPONSE`); `text`: the raw body. */
  parse: 'json' | 'text';
  /** Error type for a 404 of a request about one specific run. */
  notFoundType?: 'RUN_NOT_FOUND';
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
  | { kind: 'status'; status: number; headers: Headers; cause: unknown }
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

function redact(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[redacted]') : text;
}

/**
 * A secret-free stand-in for an error: name, redacted message, `status`/`code`, one level of
 * `cause`. ofetch's `FetchError` references the request options (with `Authorization`), so it is never kept.
 */
function scrubError(value: unknown, token: string | undefined, depth = 0): Error {
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

/** Checked by shape, not class, to match any copy of ofetch. */
function responseOf(error: unknown): Response | undefined {
  if (!(error instanceof Error) || error.name !== 'FetchError') return undefined;
  const response = (error as { response?: unknown }).response;
  return response && typeof (response as Response).status === 'number' ? (response as Response) : undefined;
}

/**
 * The request core of `createRunApi` and `createWorldApi`, on the caller's ofetch instance (its hooks
 * stay in force). GETs are retried on 408, 429, 5xx, network errors and timeouts; other methods never,
 * so a create is never sent twice. Failures are typed (`UNAUTHORIZED` for 401/403, `notFoundType` for
 * 404, `HTTP_ERROR`, `NETWORK_ERROR`, `TIMEOUT`, `ABORTED`, `INVALID_RESPONSE`) and never contain the token.
 */
export function createHttpClient(options: ApiClientOptions): HttpClient {
  const baseURL = resolveBaseURL({ baseURL: options.baseURL });
  const $fetch: $Fetch = options.fetch ?? ofetch.create({});
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

  function readToken(): string | undefined {
    let token: unknown;
    try {
      token = options.token?.();
    } catch (error) {
      throw new RunManagerError('UNAUTHORIZED', 'Reading the access token failed', { cause: scrubError(error, undefined) });
    }
    const trimmed = typeof token === 'string' ? token.trim() : '';
    return trimmed !== '' ? trimmed : undefined;
  }

  async function attempt(
    spec: HttpRequestSpec,
    url: string,
    token: string | undefined,
  ): Promise<{ ok: true; data: unknown; status: number; headers: Headers } | { ok: false; failure: AttemptFailure }> {
    // One controller for the caller's signal and our timeout, released when the attempt ends
    // (AbortSignal.timeout/any would keep the timer and signals alive for the whole timeout).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`timed out after ${timeout} ms`, 'TimeoutError'));
    }, timeout);
    const onCallerAbort = () => controller.abort(spec.signal?.reason);
    spec.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const signal = controller.signal;
    const headers: Record<string, string> = { Accept: 'application/json', ...spec.headers };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await $fetch.raw(url, {
        method: spec.method,
        body: spec.body as Record<string, unknown> | undefined,
        headers,
        signal,
        retry: 0,
        responseType: 'text',
      });
      return { ok: true, data: response._data, status: response.status, headers: response.headers };
    } catch (error) {
      if (spec.signal?.aborted) return { ok: false, failure: { kind: 'aborted', cause: spec.signal.reason } };
      if (error instanceof RunManagerError) return { ok: false, failure: { kind: 'error', error } };
      const response = responseOf(error);
      if (response) {
        return { ok: false, failure: { kind: 'status', status: response.status, headers: response.headers, cause: error } };
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

  function toError(spec: HttpRequestSpec, failure: AttemptFailure, attempts: number, token: string | undefined): RunManagerError {
    const what = `${spec.method} ${spec.path}`;
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    switch (failure.kind) {
      case 'error':
        return failure.error;
      case 'aborted':
        return new RunManagerError('ABORTED', `${what} was aborted`, { cause: scrubError(failure.cause, token) });
      case 'timeout':
        return new RunManagerError('TIMEOUT', `${what} timed out after ${timeout} ms${tries}`, {
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
        const message = `${what} failed: HTTP ${status}${tries}`;
        if (status === 401 || status === 403) return new RunManagerError('UNAUTHORIZED', message, { status, cause });
        if (status === 404 && spec.notFoundType) {
          return new RunManagerError(spec.notFoundType, `${message} (run not found)`, { status, cause });
        }
        return new RunManagerError('HTTP_ERROR', message, { status, cause });
      }
    }
  }

  async function request<T>(spec: HttpRequestSpec): Promise<HttpResponse<T>> {
    const what = `${spec.method} ${spec.path}`;
    if (spec.signal?.aborted) {
      throw new RunManagerError('ABORTED', `${what} was aborted`, { cause: scrubError(spec.signal.reason, undefined) });
    }
    const url = `${baseURL}${spec.path}${spec.query ? `?${spec.query}` : ''}`;
    const maxAttempts = spec.method === 'GET' ? retry.retries + 1 : 1;
    if (spec.body !== undefined) assertSerializable(spec);

    for (let attemptIndex = 0; ; attemptIndex += 1) {
      const token = readToken();
      const outcome = await attempt(spec, url, token);
      if (outcome.ok) {
        if (outcome.status < 200 || outcome.status >= 300) {
          throw toError(
            spec,
            { kind: 'status', status: outcome.status, headers: outcome.headers, cause: `HTTP ${outcome.status}` },
            attemptIndex + 1,
            token,
          );
        }
        return { data: parseBody<T>(spec, outcome.data, outcome.status), status: outcome.status, headers: outcome.headers };
      }
      const { failure } = outcome;
      if (attemptIndex + 1 >= maxAttempts || !isRetryable(failure)) throw toError(spec, failure, attemptIndex + 1, token);

      const backoff = Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attemptIndex);
      const asked = failure.kind === 'status' ? retryAfterMs(failure.headers) : null;
      const delay = asked === null ? backoff : Math.min(retry.maxDelayMs, asked);
      try {
        await sleep(delay, spec.signal);
      } catch (reason) {
        throw new RunManagerError('ABORTED', `${what} was aborted while waiting to retry`, {
          cause: scrubError(reason, token),
        });
      }
    }
  }

  /** ofetch hands over raw text; an instance with its own `parseResponse` may hand over a parsed value, kept as it is. */
  function parseBody<T>(spec: HttpRequestSpec, data: unknown, status: number): T {
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

  return { baseURL, request };
}
