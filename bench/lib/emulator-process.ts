/**
 * The Run API emulator in its own process (`node --import tsx src/emulator/cli.ts --port 0`), so
 * its CPU is not the bench's: the printed base URL is parsed, and the control API
 * (`/_emulator/stats`, `/_emulator/runs`, …) is read over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorStats } from '../../src/emulator/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running emulator process. */
export interface EmulatorProcess {
  readonly baseURL: string;
  readonly origin: string;
  readonly pid: number;
  /** `GET /_emulator/stats`. */
  stats(): Promise<EmulatorStats>;
  /** `GET /_emulator/<path>` as JSON. */
  control<T>(path: string): Promise<T>;
  /** SIGTERM to this process and wait for it to exit. */
  close(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/\S+\/v2\/)/;

/**
 * Starts the emulator CLI on a free port (`--port 0`) and resolves once it printed its URL.
 *
 * @example
 * ```ts
 * const emulator = await startEmulatorProcess();
 * console.log((await emulator.stats()).runs);
 * await emulator.close();
 * ```
 */
export function startEmulatorProcess(extraArgs: string[] = []): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src', 'emulator', 'cli.ts'), '--port', '0', ...extraArgs],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the emulator did not print its URL within 20 s: ${stdout}${stderr}`));
    }, 20_000);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited with ${code}: ${stderr}`));
    };
    child.once('exit', onEarlyExit);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      const baseURL = match[1] as string;
      const origin = new URL(baseURL).origin;
      const control = async <T>(path: string): Promise<T> => {
        const response = await fetch(`${origin}/_emulator/${path}`);
        if (!response.ok) throw new Error(`GET /_emulator/${path}: HTTP ${response.status}`);
        return (await response.json()) as T;
      };
      resolve({
        baseURL,
        origin,
        pid: child.pid as number,
        stats: () => control<EmulatorStats>('stats'),
        control,
        async close() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
