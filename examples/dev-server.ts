/**
 * The little web server the examples and the browser tests share: esbuild bundles a browser
 * entry in memory, and a node:http server on 127.0.0.1 serves it with an HTML page (nothing is
 * written to disk, nothing is cached by the browser).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const source = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

/**
 * The package's entries by name, bundled from the source (as tsconfig.json's `paths` has them for
 * tsc and tsx), so the examples import `run-lifecycle` as its users do and never get a stale dist/.
 */
const PACKAGE_ENTRIES: Record<string, string> = {
  'run-lifecycle': source('index.ts'),
  'run-lifecycle/core': source('core.ts'),
  'run-lifecycle/strategies': source('strategies.ts'),
  'run-lifecycle/v3': source('v3.ts'),
  'run-lifecycle/emulator': source('emulator/index.ts'),
  'run-lifecycle/testing': source('testing/index.ts'),
};

/**
 * Bundles a browser entry (and what it imports, `run-lifecycle` from the library's `src/` included)
 * into one ES module, with an inline source map unless `sourcemap: false`.
 *
 * @example
 * ```ts
 * const js = await bundleBrowser(new URL('./app.ts', import.meta.url).pathname);
 * ```
 */
export async function bundleBrowser(entry: string, options: { sourcemap?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    sourcemap: options.sourcemap === false ? false : 'inline',
    define: { 'process.env.NODE_ENV': '"development"' },
    alias: PACKAGE_ENTRIES,
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}

/** One thing the server answers: its content type and body (or a function making it per request). */
export interface Asset {
  type: string;
  body: string | Uint8Array | ((request: IncomingMessage) => string | Uint8Array | Promise<string | Uint8Array>);
  headers?: Record<string, string>;
}

/** Answers a path (without the query) with an asset, or `undefined` for 404. */
export type AssetResolver = (path: string) => Asset | undefined | Promise<Asset | undefined>;

/** A running static server. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/**
 * Serves `routes` (a path → asset map, or a resolver) on 127.0.0.1; GET and HEAD only.
 *
 * @example
 * ```ts
 * const site = await serveStatic({ '/': { type: 'text/html', body: '<script type="module" src="/app.js"></script>' } });
 * console.log(site.origin);
 * await site.close();
 * ```
 */
export async function serveStatic(routes: Record<string, Asset> | AssetResolver, options: { port?: number } = {}): Promise<StaticServer> {
  const resolve: AssetResolver = typeof routes === 'function' ? routes : (path) => routes[path];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'text/plain', 'method not allowed', { Allow: 'GET, HEAD' });
    Promise.resolve(resolve(path))
      .then(async (asset) => {
        if (!asset) return answer(res, 404, 'text/plain', `not found: ${path}`);
        const body = typeof asset.body === 'function' ? await asset.body(req) : asset.body;
        answer(res, 200, asset.type, body, asset.headers);
      })
      .catch((error: unknown) => answer(res, 500, 'text/plain', `error: ${error instanceof Error ? error.message : String(error)}`));
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * An HTML page that loads one module script.
 *
 * @example
 * ```ts
 * htmlPage({ title: 'demo', script: '/app.js', body: '<div id="root"></div>' });
 * ```
 */
export function htmlPage(options: { title: string; script: string; body?: string; head?: string }): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${options.title}</title>`,
    options.head ?? '',
    '</head>',
    '<body>',
    options.body ?? '',
    `<script type="module" src="${options.script}"></script>`,
    '</body>',
    '</html>',
  ].join('\n');
}

/**
 * The value of a `Set-Cookie` header that logs a user in the way Epicenter.js does: the
 * `epicenterjs.session` cookie, which `RunManager` reads when no `session` option is given.
 *
 * @example
 * ```ts
 * headers: { 'Set-Cookie': sessionCookie({ userId: 'u1', groupName: 'g1', auth_token: token }) }
 * ```
 */
export function sessionCookie(session: Record<string, unknown>): string {
  return `epicenterjs.session=${encodeURIComponent(JSON.stringify(session))}; Path=/; SameSite=Lax`;
}

/**
 * Reads `--name value` (or `--name=value`) as a port number from argv.
 *
 * @example
 * ```ts
 * const port = portArgument(process.argv.slice(2), 'port') ?? 0;
 * ```
 */
export function portArgument(argv: readonly string[], name: string): number | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    let value: string | undefined;
    if (arg === `--${name}`) value = argv[i + 1];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    else continue;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--${name} must be a port number (0-65535), got ${value ?? 'nothing'}`);
    return port;
  }
  return undefined;
}
