/**
 * The one error type every promise of this library rejects with: `type` to switch on, `status`
 * when a response was received. Neither `message`, `cause` nor the JSON form contain a bearer token.
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

/** What kind of failure a {@link RunManagerError} is. */
export type RunManagerErrorType = (typeof ERROR_TYPES)[number];

/** Extra fields of a {@link RunManagerError}. */
export interface RunManagerErrorDetails {
  /** HTTP status of the response that failed, when there was one. */
  status?: number;
  /** The underlying error, already scrubbed of secrets. */
  cause?: unknown;
  /** The server's own error code, when it sent one. */
  code?: string;
}

/** The error every `RunManager` promise rejects with, and the constructor's only throw (`INVALID_OPTIONS`). */
export class RunManagerError extends Error {
  /** Always `'RunManagerError'`. */
  override readonly name = 'RunManagerError';
  /** What went wrong, from a closed list: branch on it. */
  readonly type: RunManagerErrorType;
  /** HTTP status of the response that failed, when there was one. */
  readonly status?: number;
  /** The server's own error code, when it sent one (Epicenter v3: `information.code`, e.g. `AUTHENTICATION_EXPIRED`). */
  readonly code?: string;

  constructor(type: RunManagerErrorType, message: string, details: RunManagerErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.type = type;
    if (details.status !== undefined) this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
  }

  /** A plain, secret-free form for logs and inspection events. */
  toJSON(): { name: string; type: RunManagerErrorType; message: string; status?: number; code?: string } {
    const json: { name: string; type: RunManagerErrorType; message: string; status?: number; code?: string } = {
      name: this.name,
      type: this.type,
      message: this.message,
    };
    if (this.status !== undefined) json.status = this.status;
    if (this.code !== undefined) json.code = this.code;
    return json;
  }
}

/** True when `value` is a {@link RunManagerError}, optionally of the given type. */
export function isRunManagerError(value: unknown, type?: RunManagerErrorType): value is RunManagerError {
  return value instanceof RunManagerError && (type === undefined || value.type === type);
}

/** Turns anything thrown by user code into a {@link RunManagerError}; one that already is passes through. */
export function toRunManagerError(value: unknown, fallbackType: RunManagerErrorType, context?: string): RunManagerError {
  if (value instanceof RunManagerError) return value;
  const detail = describeThrown(value);
  const message = context ? `${context}: ${detail}` : detail;
  return new RunManagerError(fallbackType, message, { cause: value });
}

/**
 * A message for anything thrown. Never throws itself: user code may throw unprintable values
 * (`Object.create(null)`, a throwing getter), and describing a failure must not fail.
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
