/**
 * Serves one of the framework-embedding examples (`react` or `vanilla`) against a local Run API
 * emulator: `index.html` (which logs user u1 in the way Epicenter.js does, with the
 * `epicenterjs.session` cookie), `main.js` (the example bundled with esbuild at start) and
 * `config.json` (the emulator's API root).
 *
 *   npx tsx examples/serve-example.ts react [--port <emulator port>] [--web-port <page port>]
 *   npx tsx examples/serve-example.ts vanilla
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDevToken, startEmulator, type Emulator } from '../src/emulator/index.js';
import { bundleBrowser, portArgument, serveStatic, sessionCookie } from './dev-server.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The examples and their entry files. */
export const EXAMPLES = { react: 'react/main.tsx', vanilla: 'vanilla/main.ts' } as const;
export type ExampleName = keyof typeof EXAMPLES;

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
    bundleBrowser(join(HERE, EXAMPLES[name])),
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

async function main(argv: string[]): Promise<void> {
  const name = argv[0];
  if (!name || !Object.hasOwn(EXAMPLES, name)) {
    console.error(
      `usage: npx tsx examples/serve-example.ts <${Object.keys(EXAMPLES).join('|')}> [--port <emulator port>] [--web-port <page port>]`,
    );
    process.exit(1);
  }
  const example = await startExample(name as ExampleName, {
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
