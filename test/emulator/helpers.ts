import { createDevToken, startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

export const TOKEN_U1 = createDevToken({ userId: 'u1', userName: 'alice' });
export const TOKEN_U2 = createDevToken({ userId: 'u2', userName: 'bob' });
export const RUNS = 'run/acme/sim/';

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export interface RequestInit2 {
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

/** A fetch against the emulator: `path` is relative to `baseURL` unless it starts with `/`. */
export async function call(emulator: Emulator, method: string, path: string, init: RequestInit2 = {}): Promise<TestResponse> {
  const url = path.startsWith('/') ? `${emulator.origin}${path}` : `${emulator.baseURL}${path}`;
  const token = init.token === undefined ? TOKEN_U1 : init.token;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...init.headers };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** Creates a run for the token's user and returns it. */
export async function createRun(emulator: Emulator, body: Record<string, unknown> = {}, token = TOKEN_U1): Promise<any> {
  const response = await call(emulator, 'POST', RUNS, { body: { model: 'model.py', ...body }, token });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
  return response.body;
}

/** Starts an emulator for one test file and closes it after each test via the returned hooks. */
export function useEmulator(options: EmulatorOptions = {}): {
  readonly current: Emulator;
  start(extra?: EmulatorOptions): Promise<Emulator>;
  stop(): Promise<void>;
} {
  let emulator: Emulator | undefined;
  return {
    get current() {
      if (!emulator) throw new Error('emulator not started');
      return emulator;
    },
    async start(extra: EmulatorOptions = {}) {
      emulator = await startEmulator({ ...options, ...extra });
      return emulator;
    },
    async stop() {
      await emulator?.close();
      emulator = undefined;
    },
  };
}
