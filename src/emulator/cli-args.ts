/** Command-line parsing of `run-lifecycle-emulator`, apart from `cli.ts` so it can be tested without starting anything. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
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

/** Show help, run with options, or a usage error (exit code 2): `message` is one line, without the program name. */
export type CliParse = { kind: 'help' } | { kind: 'run'; options: EmulatorOptions } | { kind: 'error'; message: string };

/** The one-line hint printed under every usage error. */
export const CLI_HELP_HINT = 'Run run-lifecycle-emulator --help for the options.';

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  latency: { type: 'string' },
  anonymous: { type: 'boolean' },
  token: { type: 'string', multiple: true },
  'no-self-assign': { type: 'boolean' },
  'invalidate-tokens': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

type OptionName = keyof typeof OPTIONS;

class UsageError extends Error {}

function integer(text: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, not "${text}"`);
  }
  return Number(text);
}

function tokenEntry(text: string): [string, RunUser] {
  const separator = text.indexOf('=');
  const token = text.slice(0, separator);
  const userId = text.slice(separator + 1);
  if (separator < 1 || userId === '') throw new UsageError(`--token must look like tok=userId, not "${text}"`);
  return [token, { id: userId, userName: userId }];
}

function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

/** The declared option closest to a misspelt one (`--prot` → `--port`), if any is close. */
function closestOption(raw: string): string | undefined {
  const typed = raw.replace(/^-+/, '');
  let best: { name: string; distance: number } | undefined;
  for (const name of Object.keys(OPTIONS)) {
    const distance = editDistance(typed, name);
    if (distance <= Math.max(2, Math.floor(name.length / 3)) && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best && `--${best.name}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** As typed, clipped and with control characters escaped, so a pasted blob stays one readable line. */
function bare(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text).slice(1, -1);
}

/** {@link bare}, in quotes: for values. */
function shown(text: string): string {
  return `"${bare(text)}"`;
}

/** Reads the tokens itself, so every problem gets a plain message of ours rather than Node's wording. */
function readArgs(argv: readonly string[]): Map<OptionName, string[] | true> | 'help' {
  const { tokens } = parseArgs({ args: [...argv], strict: false, allowPositionals: true, tokens: true, options: OPTIONS });
  // Help wins over any mistake next to it: whoever asks for it is finding out how to call.
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return 'help';
  const values = new Map<OptionName, string[] | true>();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') throw new UsageError(`unexpected argument ${shown(token.value)}`);
    const { name, rawName } = token;
    if (!isOptionName(name)) {
      const meant = closestOption(rawName);
      throw new UsageError(`unknown option ${bare(rawName)}${meant ? ` (did you mean ${meant}?)` : ''}`);
    }
    const option: { type: 'string' | 'boolean'; multiple?: boolean } = OPTIONS[name];
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${rawName} takes no value, got ${shown(token.value)}`);
      values.set(name, true);
      continue;
    }
    // Without a value Node takes the next argument, even an option: `--port --anonymous` is a forgotten value.
    if (token.value === undefined || token.value === '' || (!token.inlineValue && /^--?[A-Za-z]/.test(token.value))) {
      throw new UsageError(
        `${rawName} needs a value${token.value === undefined || token.value === '' ? '' : `, got the option ${bare(token.value)}`}`,
      );
    }
    const previous = values.get(name);
    if (Array.isArray(previous) && !option.multiple) throw new UsageError(`${rawName} is given more than once`);
    values.set(name, [...(Array.isArray(previous) ? previous : []), token.value]);
  }
  return values;
}

/** Parses the arguments after the program name. */
export function parseCliArgs(argv: readonly string[]): CliParse {
  try {
    const values = readArgs(argv);
    if (values === 'help') return { kind: 'help' };
    const text = (name: OptionName): string | undefined => {
      const value = values.get(name);
      return Array.isArray(value) ? value[0] : undefined;
    };
    const port = text('port');
    const latency = text('latency');
    const tokens = values.get('token');
    const options: EmulatorOptions = {
      port: port === undefined ? 8080 : integer(port, '--port', 0, 65535),
      host: text('host') ?? '127.0.0.1',
      latency: latency === undefined ? 0 : integer(latency, '--latency', 0, 3_600_000),
      anonymous: values.get('anonymous') === true,
      tokens: Object.fromEntries((Array.isArray(tokens) ? tokens : []).map(tokenEntry)),
    };
    const data = text('data');
    if (data !== undefined) options.dataFile = data;
    if (values.get('no-self-assign') === true) options.allowWorldSelfAssign = false;
    if (values.get('invalidate-tokens') === true) options.invalidateTokensOnAssignment = true;
    return { kind: 'run', options };
  } catch (error) {
    if (error instanceof UsageError) return { kind: 'error', message: error.message };
    throw error;
  }
}
