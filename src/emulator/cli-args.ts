/** Command-line parsing of `run-lifecycle-emulator`, apart from `cli.ts` so it can be tested without starting anything. */
import { parseArgs } from 'node:util';
import type { RunUser } from '../types.js';
import type { EmulatorOptions } from './types.js';

export const CLI_USAGE = `Usage: run-lifecycle-emulator [options]

Starts a local Epicenter Run API emulator (v2 under /v2/, v3 under /api/v3/) and prints its base URL.

Options:
  --port <n>          TCP port (0 = any free port; default 8080)
  --host <address>    interface to listen on (default 127.0.0.1)
  --data <file>       JSON file keeping runs and worlds across restarts
  --latency <ms>      delay before every API request is answered (default 0)
  --anonymous         accept requests without a bearer token (user = null)
  --token <tok=user>  accept bearer token <tok> as user id <user> (repeatable)
  --no-self-assign    v3: refuse world self-assignment (WORLD_SELF_ASSIGN_DISABLED)
  --invalidate-tokens v3: a world assignment change invalidates the user's tokens
  -h, --help          show this help

Control API: <origin>/_emulator/{requests,runs,worlds,seed,reset,faults,latency,stats,settings,invalidate}
`;

/** Show help, run with options, or a usage error (exit code 2). */
export type CliParse = { kind: 'help' } | { kind: 'run'; options: EmulatorOptions } | { kind: 'error'; message: string };

function integer(text: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}, not "${text}"`);
  return Number(text);
}

function tokenEntry(text: string): [string, RunUser] {
  const separator = text.indexOf('=');
  const token = text.slice(0, separator);
  const userId = text.slice(separator + 1);
  if (separator < 1 || userId === '') throw new Error(`--token must look like tok=userId, not "${text}"`);
  return [token, { id: userId, userName: userId }];
}

/** Parses the arguments after the program name. */
export function parseCliArgs(argv: readonly string[]): CliParse {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        latency: { type: 'string' },
        anonymous: { type: 'boolean' },
        token: { type: 'string', multiple: true },
        'no-self-assign': { type: 'boolean' },
        'invalidate-tokens': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return { kind: 'help' };
    if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
    const options: EmulatorOptions = {
      port: values.port === undefined ? 8080 : integer(values.port, '--port', 0, 65535),
      host: values.host ?? '127.0.0.1',
      latency: values.latency === undefined ? 0 : integer(values.latency, '--latency', 0, 3_600_000),
      anonymous: values.anonymous === true,
      tokens: Object.fromEntries((values.token ?? []).map(tokenEntry)),
    };
    if (values.data !== undefined) options.dataFile = values.data;
    if (values['no-self-assign'] === true) options.allowWorldSelfAssign = false;
    if (values['invalidate-tokens'] === true) options.invalidateTokensOnAssignment = true;
    return { kind: 'run', options };
  } catch (error) {
    return { kind: 'error', message: (error as Error).message };
  }
}
