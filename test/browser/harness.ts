/**
 * Harness of the browser tests: Debian's Chromium driven by playwright-core (one browser per test
 * file), a page on its own 127.0.0.1 origin that exposes the library (bundled from `src/index.ts`
 * with esbuild at test start) as `window.runLifecycle`, and the Run API emulator on another port,
 * so every request crosses origins (CORS) as in production.
 */
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createDevToken, startEmulator, type Emulator, type EmulatorOptions, type RequestLogEntry } from '../../src/emulator/index.js';
import type { UserSession } from '../../src/index.js';
import { bundleBrowser, htmlPage, serveStatic, type StaticServer } from '../../examples/dev-server.js';
import { ensureChromium } from './ensure-chromium.js';

/** The flags this machine's Chromium needs (no sandbox as root; no background traffic to the closed network). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Launches Chromium (installing it first when possible; see ensure-chromium.ts). Playwright gives
 * every launch a fresh, temporary `--user-data-dir`, and every context its own storage.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
}

/** The default session key of the pages' run options (account acme, project sim, model model.py). */
export const SESSION_KEY = 'epicenter-scenario-acme-sim-model.py';

/** A logged-in user (with a dev token the emulator accepts) for pages. */
export function userSession(userId: string): UserSession {
  return { userId, userName: userId, groupName: 'g1', auth_token: createDevToken({ userId }) };
}

/** API requests the emulator answered, without CORS preflights. */
export function apiRequests(emulator: Emulator): RequestLogEntry[] {
  return emulator.requests.filter((entry) => entry.method !== 'OPTIONS');
}

/** Run creations (`POST /v2/run/acme/sim/`) the emulator answered. */
export function createPosts(emulator: Emulator): RequestLogEntry[] {
  return apiRequests(emulator).filter((entry) => entry.method === 'POST' && entry.path === '/v2/run/acme/sim/');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the emulator's log has been still for a moment (every response logged). */
export async function settledRequests(emulator: Emulator): Promise<RequestLogEntry[]> {
  let seen = -1;
  while (emulator.requests.length !== seen) {
    seen = emulator.requests.length;
    await sleep(20);
  }
  return apiRequests(emulator);
}

export interface LibrarySuite {
  readonly browser: Browser;
  readonly emulator: Emulator;
  readonly site: StaticServer;
  /** The test page's URL. */
  readonly url: string;
  /** A page opened at the test page, in `context` or else in a new context (own storage). */
  openPage(context?: BrowserContext): Promise<Page>;
  /** A fresh context (own IndexedDB, Web Locks, cookies); closed after the test. */
  newContext(): Promise<BrowserContext>;
}

const LIBRARY_ENTRY = fileURLToPath(new URL('./fixtures/library-page.ts', import.meta.url));

/**
 * One browser, one emulator and one test site for the calling test file. Before every test the
 * emulator is reset; after it, the test's browser contexts are closed and any uncaught error of
 * its pages fails it.
 */
export function useLibrarySuite(emulatorOptions: EmulatorOptions = {}): LibrarySuite {
  let browser: Browser | undefined;
  let emulator: Emulator | undefined;
  let site: StaticServer | undefined;
  let contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    let script = '';
    // Each is kept as soon as it is up, so afterAll closes whatever started.
    await Promise.all([
      bundleBrowser(LIBRARY_ENTRY, { sourcemap: false }).then((bundled) => (script = bundled)),
      startEmulator(emulatorOptions).then((started) => (emulator = started)),
      launchChromium().then((launched) => (browser = launched)),
    ]);
    site = await serveStatic({
      '/': { type: 'text/html; charset=utf-8', body: htmlPage({ title: 'run-lifecycle browser test', script: '/library.js' }) },
      '/library.js': { type: 'text/javascript; charset=utf-8', body: script },
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([emulator?.close(), site?.close()]);
  });
  beforeEach(() => {
    suite.emulator.reset();
    suite.emulator.latency = emulatorOptions.latency ?? 0;
  });
  afterEach(async () => {
    const closing = contexts;
    const errors = pageErrors;
    contexts = [];
    pageErrors = [];
    await Promise.all(closing.map((context) => context.close()));
    expect(errors, 'uncaught errors on the test pages').toEqual([]);
  });

  const suite: LibrarySuite = {
    get browser() {
      if (!browser) throw new Error('the browser is not running');
      return browser;
    },
    get emulator() {
      if (!emulator) throw new Error('the emulator is not running');
      return emulator;
    },
    get site() {
      if (!site) throw new Error('the site is not running');
      return site;
    },
    get url() {
      return `${suite.site.origin}/`;
    },
    async newContext() {
      const context = await suite.browser.newContext();
      contexts.push(context);
      return context;
    },
    async openPage(context) {
      const page = await (context ?? (await suite.newContext())).newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(suite.url);
      await libraryLoaded(page);
      return page;
    },
  };
  return suite;
}

/** Waits until the test page has loaded the library. */
export async function libraryLoaded(page: Page): Promise<void> {
  await page.waitForFunction(() => window.runLifecycle !== undefined && window.testKit !== undefined);
}

/** Reloads the page (same context: IndexedDB and Web Locks stay) and waits for the library. */
export async function reload(page: Page): Promise<void> {
  await page.reload();
  await libraryLoaded(page);
}
