/**
 * Serves one of the framework-embedding examples (`react` or `vanilla`) against a local Run API
 * emulator: `index.html` (which logs user u1 in the way Epicenter.js does, with the
 * `epicenterjs.session` cookie), `main.js` (the example bundled with esbuild at start) and
 * `config.json` (the emulator's API root).
 *
 *   npm run example                      # lists the examples
 *   npm run example -- react [--port <emulator port>] [--web-port <page port>]
 *   npm run example -- vanilla
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDevToken, startEmulator, type Emulator } from 'run-lifecycle/emulator';
import { bundleBrowser, portArgument, serveStatic, sessionCookie } from './dev-server.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The examples: entry file and what each shows. */
export const EXAMPLES = {
  react: { entry: 'react/main.tsx', about: 'React: views select the manager state with useSelector from @xstate/react' },
  vanilla: { entry: 'vanilla/main.ts', about: 'no framework: the page renders from rm.actor.subscribe' },
} as const;
export type ExampleName = keyof typeof EXAMPLES;

const isExampleName = (name: string): name is ExampleName => Object.hasOwn(EXAMPLES, name);

/** A running example. */
export interface RunningExample {
  readonly url: string;
  readonly emulator: Emulator;
  close(): Promise<void>;
}

/**
 * Starts the emulator and the example's page server.
 *
 * @example
 * ```ts
 * const example = await startExample('react', { latency: 300 });
 * console.log(example.url);
 * ```
 */
export async function startExample(
  name: ExampleName,
  options: { port?: number; webPort?: number; latency?: number } = {},
): Promise<RunningExample> {
  const [script, emulator] = await Promise.all([
    bundleBrowser(join(HERE, EXAMPLES[name].entry)),
    startEmulator({ port: options.port ?? 0, latency: options.latency ?? 0 }),
  ]);
  const session = { userId: 'u1', userName: 'alice', groupName: 'g1', auth_token: createDevToken({ userId: 'u1', userName: 'alice' }) };
  try {
    const site = await serveStatic(
      {
        '/': {
          type: 'text/html; charset=utf-8',
          body: () => readFile(join(HERE, name, 'index.html')),
          headers: { 'Set-Cookie': sessionCookie(session) },
        },
        '/main.js': { type: 'text/javascript; charset=utf-8', body: script },
        '/config.json': { type: 'application/json', body: JSON.stringify({ baseURL: emulator.baseURL }) },
      },
      { port: options.webPort ?? 0 },
    );
    return {
      url: `${site.origin}/`,
      emulator,
      close: async () => {
        await Promise.all([site.close(), emulator.close()]);
      },
    };
  } catch (error) {
    await emulator.close();
    throw error;
  }
}

function usage(): string {
  const width = Math.max(...Object.keys(EXAMPLES).map((name) => name.length));
  return [
    'Examples (each served against a local Run API emulator):',
    ...Object.entries(EXAMPLES).map(([name, { about }]) => `  ${name.padEnd(width)}  ${about}`),
    '',
    'Run one:  npm run example -- <name> [--port <emulator port>] [--web-port <page port>]',
    'The playground, every strategy side by side:  npm run playground',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const name = argv[0];
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return;
  }
  if (!isExampleName(name)) {
    console.error(`unknown example "${name}"; the examples are: ${Object.keys(EXAMPLES).join(', ')}`);
    process.exit(2);
  }
  const example = await startExample(name, {
    port: portArgument(argv, 'port') ?? 0,
    webPort: portArgument(argv, 'web-port') ?? 0,
    latency: 300,
  });
  console.log(`${name} example: ${example.url}  (Run API emulator ${example.emulator.baseURL}, 300 ms latency)`);
  console.log('Press Ctrl-C to stop.');
  process.once('SIGINT', () => void example.close().then(() => process.exit(0)));
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  await main(process.argv.slice(2));
}
