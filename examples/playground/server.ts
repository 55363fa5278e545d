/**
 * The playground's servers: the Run API emulator (seeded so every strategy has something to find)
 * and, on another 127.0.0.1 port, the page — `index.html`, `style.css`, `app.js` (bundled from
 * `app.ts` with esbuild at start), `config.json` (the emulator's v2 and v3 URLs and a v2 and a v3
 * dev token per user) and `visualizations/<machine-id>.svg` when `npm run visualize` has made them.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevToken, startEmulator, type Emulator } from 'run-lifecycle/emulator';
import { bundleBrowser, serveStatic, type Asset } from '../dev-server.js';
import { SEED, USERS } from './presets.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Options of {@link startPlayground}. */
export interface PlaygroundOptions {
  /** The emulator's port; default 0 (a free one). */
  port?: number;
  /** The page's port; default 0 (a free one). */
  webPort?: number;
  /** Emulator latency in ms at start; default 0. */
  latency?: number;
  /** Where the generated diagrams are; default `visualizations/` at the repository root. */
  visualizationsDir?: string;
}

/** A running playground. */
export interface Playground {
  /** The page, e.g. `http://127.0.0.1:5173/`. */
  readonly url: string;
  readonly emulator: Emulator;
  close(): Promise<void>;
}

const file = (name: string, type: string): Asset => ({ type, body: () => readFile(join(HERE, name)) });

/**
 * Starts the emulator and the page server.
 *
 * @example
 * ```ts
 * const playground = await startPlayground({ port: 8080 });
 * console.log(playground.url);
 * ```
 */
export async function startPlayground(options: PlaygroundOptions = {}): Promise<Playground> {
  const [script, emulator] = await Promise.all([
    bundleBrowser(join(HERE, 'app.ts')),
    startEmulator({
      port: options.port ?? 0,
      latency: options.latency ?? 0,
      variables: { price: 10 },
      runs: SEED.runs,
      worlds: SEED.worlds,
    }),
  ]);
  const config = {
    baseURL: emulator.baseURL,
    v3BaseURL: emulator.v3BaseURL,
    controlURL: `${emulator.origin}/_emulator/`,
    tokens: Object.fromEntries(
      USERS.map((user) => [user.userId, createDevToken({ userId: user.userId, userName: user.userName, groupName: user.groupName })]),
    ),
    // v3 tokens also carry the group's key (claim group_key), as Epicenter v3 session tokens do.
    v3Tokens: Object.fromEntries(
      USERS.map((user) => [
        user.userId,
        createDevToken({ userId: user.userId, userName: user.userName, groupName: user.groupName, groupKey: user.groupKey }),
      ]),
    ),
  };
  const visualizations = options.visualizationsDir ?? join(HERE, '..', '..', 'visualizations');
  const routes: Record<string, Asset> = {
    '/': file('index.html', 'text/html; charset=utf-8'),
    '/style.css': file('style.css', 'text/css; charset=utf-8'),
    '/app.js': { type: 'text/javascript; charset=utf-8', body: script },
    '/config.json': { type: 'application/json', body: JSON.stringify(config) },
  };
  let site;
  try {
    site = await serveStatic(
      async (path) => {
        if (Object.hasOwn(routes, path)) return routes[path];
        const diagram = /^\/visualizations\/([\w.-]+)\.svg$/.exec(path)?.[1];
        if (diagram === undefined) return undefined;
        const svg = await readFile(join(visualizations, `${diagram}.svg`)).catch(() => undefined);
        return svg ? { type: 'image/svg+xml', body: svg } : undefined;
      },
      { port: options.webPort ?? 0 },
    );
  } catch (error) {
    await emulator.close();
    throw error;
  }
  const web = site;
  return {
    url: `${web.origin}/`,
    emulator,
    close: async () => {
      await Promise.all([web.close(), emulator.close()]);
    },
  };
}
