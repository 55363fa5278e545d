/**
 * Makes sure Debian's Chromium is at `/usr/bin/chromium` before the browser tests run.
 *
 * Used as the `globalSetup` of the `browser` vitest project (so it runs once, and only when a
 * browser test is queued) and checked again by the harness before every launch. When Chromium is
 * missing and we are root with apt-get, it installs it (`apt-get update && apt-get install -y
 * chromium`, output shown); otherwise it throws an error that says how to install it. It never
 * skips the browser tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const HOW_TO = `Install it with: sudo apt-get update && sudo apt-get install -y chromium`;

function hasAptGet(): boolean {
  return spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

function run(command: string, args: string[]): void {
  console.log(`[browser tests] $ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) {
    throw new Error(
      `[browser tests] \`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`}). ${HOW_TO}`,
    );
  }
}

/**
 * Returns the Chromium path, installing Chromium first when it is missing and this process may.
 *
 * @example
 * ```ts
 * const executablePath = ensureChromium();
 * ```
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !hasAptGet()) {
    throw new Error(
      `[browser tests] ${CHROMIUM_PATH} is missing, and it cannot be installed from here ` +
        `(${isRoot ? 'apt-get is not available' : 'not running as root'}). The browser tests need Debian's Chromium. ${HOW_TO}`,
    );
  }
  console.log(`[browser tests] ${CHROMIUM_PATH} is missing: installing Debian's chromium package.`);
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', 'chromium']);
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`[browser tests] apt-get installed chromium, but ${CHROMIUM_PATH} is still missing. ${HOW_TO}`);
  return CHROMIUM_PATH;
}

/** vitest `globalSetup` entry. */
export default function setup(): void {
  ensureChromium();
}
