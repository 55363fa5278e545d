/**
 * The one error type every promise of this library rejects with.
 *
 * `type` says what went wrong in a word a program can switch on; `status` is the HTTP
 * status when a response was received; `cause` is the underlying error when there was one.
 * Neither `message`, `cause` nor the JSON form ever contain a bearer token.
 */

/** Every `RunManagerError.type`. */
export const ERROR_TYPES = [
  'UNAUTHORIZED',
  'RUN_LIMIT_REACHED',
  'NO_TRACKING_KEY',
  'NO_WORLD_FOR_USER',
  'RUN_NOT_FOUND',
  'RESET_NOT_SUPPORTED',
  'INIT_FAILED',
  'HTTP_ERROR',
  'NETWORK_ERROR',
  'TIMEOUT',
  'ABORTED',
  'INVALID_RESPONSE',
  'INVALID_OPTIONS',
] as const;

/**
 * What kind of failure a {@link RunManagerError} is.
 *
 * @example
 * ```ts
 * if (error.type === 'RUN_LIMIT_REACHED') showLimitBanner();
 * ```
 */
export type RunManagerErrorType = (typeof ERROR_TYPES)[number];

/** Extra fields of a {@link RunManagerError}. */
export interface RunManagerErrorDetails {
  /** HTTP status of the response that failed, when there was one. */
  status?: number;
  /** The underlying error (already scrubbed of secrets). */
  cause?: unknown;
}

/**
 * The error every `RunManager` promise rejects with, and the only synchronous throw
 * (`INVALID_OPTIONS`, from the constructor).
 *
 * @example
 * ```ts
 * try {
 *   await rm.reset();
 * } catch (error) {
 *   if (error instanceof RunManagerError && error.type === 'RUN_LIMIT_REACHED') {
 *     console.log('no more runs for you');
 *   }
 * }
 * ```
 */
export class RunManagerError extends Error {
  override readonly name = 'RunManagerError';
  readonly type: RunManagerErrorType;
  readonly status?: number;

  constructor(type: RunManagerErrorType, message: string, details: RunManagerErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.type = type;
    if (details.status !== undefined) this.status = details.status;
  }

  /** A plain, secret-free form for logs and inspection events. */
  toJSON(): { name: string; type: RunManagerErrorType; message: string; status?: number } {
    const json: { name: string; type: RunManagerErrorType; message: string; status?: number } = {
      name: this.name,
      type: this.type,
      message: this.message,
    };
    if (this.status !== undefined) json.status = this.status;
    return json;
  }
}

/**
 * True when `value` is a {@link RunManagerError}, optionally of the given type.
 *
 * @example
 * ```ts
 * rm.getRun().catch((e) => { if (isRunManagerError(e, 'UNAUTHORIZED')) redirectToLogin(); });
 * ```
 */
export function isRunManagerError(value: unknown, type?: RunManagerErrorType): value is RunManagerError {
  return value instanceof RunManagerError && (type === undefined || value.type === type);
}

/**
 * Turns anything thrown into a {@link RunManagerError}; errors that already are one pass through.
 * Used where user code (settings functions, `onCreate`, custom strategies) can throw anything.
 *
 * @example
 * ```ts
 * const error = toRunManagerError(new Error('boom'), 'HTTP_ERROR'); // type HTTP_ERROR, message 'boom'
 * ```
 */
export function toRunManagerError(value: unknown, fallbackType: RunManagerErrorType, context?: string): RunManagerError {
  if (value instanceof RunManagerError) return value;
  const detail = describeThrown(value);
  const message = context ? `${context}: ${detail}` : detail;
  return new RunManagerError(fallbackType, message, { cause: value });
}

/**
 * A message for anything thrown. Never throws itself: user code may throw values that cannot be
 * printed (`Object.create(null)`, an object whose `toString` or `message` getter throws), and a
 * failure to describe a failure must not take the manager down with it.
 */
export function describeThrown(value: unknown): string {
  try {
    if (value instanceof Error) return value.message !== '' ? clip(value.message) : value.name;
    if (typeof value === 'string') return clip(value);
    if (value !== null && typeof value === 'object') {
      const message = (value as { message?: unknown }).message;
      return typeof message === 'string' ? clip(message) : 'a thrown object';
    }
    return typeof value === 'symbol' ? 'a thrown symbol' : String(value);
  } catch {
    return 'a thrown value that cannot be printed';
  }
}

/** Messages stay readable even when what was thrown carries a whole document. */
function clip(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
