/**
 * The playground (examples/playground) in Chromium, clicked through for every built-in strategy:
 * choose it, getRun(), reset(); the result panel, the request list (against the emulator's own
 * log), the live statechart and the fault controls must all follow. Then the switch to Epicenter
 * v3 (`/api/v3/…` routes, v3 sessions, self-assignment of a user in no world) and back. Ends with
 * screenshots at test/browser/__screenshots__/playground.png (v2) and playground-v3.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_KEY, SPECIFIC_RUN_ID } from '../../examples/playground/presets.js';
import { startPlayground, type Playground } from '../../examples/playground/server.js';
import { STRATEGY, type RunManagerErrorType, type StrategyName } from '../../src/index.js';
import { reusePerSessionMachine } from '../../src/machines/strategies/reuse-per-session.machine.js';
import { apiRequests, launchChromium } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = join(ROOT, 'test/browser/__screenshots__/playground.png');
const SCREENSHOT_V3 = join(ROOT, 'test/browser/__screenshots__/playground-v3.png');

let browser: Browser;
let playground: Playground;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  // Each is kept as soon as it is up, so afterAll closes whatever started.
  await Promise.all([
    launchChromium().then((launched) => (browser = launched)),
    startPlayground().then((started) => (playground = started)),
  ]);
  page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(playground.url);
  await page.waitForSelector('body[data-ready="true"]');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await playground?.close();
});

interface Shown {
  kind: string | undefined;
  runId: string | undefined;
  errorType: string | undefined;
  /** The API version of the manager that made the call: `v2` or `v3`. */
  api: string | undefined;
  text: string;
}

async function result(): Promise<Shown> {
  return page.$eval('#result', (element) => {
    const { kind, runId, errorType, api } = (element as HTMLElement).dataset;
    return { kind, runId, errorType, api, text: element.textContent ?? '' };
  });
}

/** Clicks a call button and waits for the result panel to show that call's outcome. */
async function press(button: 'get-run' | 'get-run-price' | 'reset'): Promise<Shown> {
  const seq = Number(await page.getAttribute('#result', 'data-seq'));
  await page.click(`#${button}`);
  await page.waitForSelector(`#result[data-seq="${seq + 1}"]`);
  return result();
}

/** Switches the Epicenter API version (the radio buttons) and waits for the page to show it. */
async function chooseApi(version: 2 | 3): Promise<void> {
  await page.check(`input[name="api"][value="${version}"]`);
  await page.waitForSelector(`body[data-api="v${version}"]`);
}

async function choose(strategy: StrategyName, user = 'u1'): Promise<void> {
  await page.selectOption('#strategy', strategy);
  await page.check(`input[name="user"][value="${user}"]`);
  await page.waitForSelector(`#chart-machine:text-is("${strategy}")`);
}

/** The request list shows exactly what the emulator answered (preflights hidden), newest first. */
async function expectRequestListToMatchEmulator(): Promise<void> {
  await expect.poll(() => page.textContent('#request-count')).toBe(String(apiRequests(playground.emulator).length));
  const newest = apiRequests(playground.emulator).at(-1);
  if (newest) {
    const first = await page.$eval('#requests li', (item) => ({
      method: (item as HTMLElement).dataset.method,
      status: (item as HTMLElement).dataset.status,
    }));
    expect(first).toEqual({ method: newest.method, status: String(newest.status) });
  }
}

/** The request list as shown: which API (`data-api`) and the full method and path (`title`), newest first. */
async function shownRequests(): Promise<Array<{ api: string | undefined; call: string }>> {
  return page.$$eval('#requests li.request', (items) =>
    items.map((item) => ({ api: (item as HTMLElement).dataset.api, call: (item as HTMLElement).title })),
  );
}

/** `METHOD path` of the API requests the emulator answered after `afterSeq`, oldest first. */
function routesSince(afterSeq = 0): string[] {
  return apiRequests(playground.emulator)
    .filter((entry) => entry.seq > afterSeq)
    .map((entry) => `${entry.method} ${entry.path}`);
}

const lastSeq = () => playground.emulator.requests.at(-1)?.seq ?? 0;

async function resetEmulator(): Promise<void> {
  await page.click('#reset-emulator');
  await expect.poll(() => playground.emulator.runs().map((run) => run.id)).toEqual([SPECIFIC_RUN_ID]);
  await page.waitForSelector('#request-count:text-is("0")');
}

async function chart(): Promise<{ mode: string | undefined; active: string | undefined; highlighted: number }> {
  return page.$eval('#strategy-chart > .chart', (element) => ({
    mode: (element as HTMLElement).dataset.mode,
    active: (element as HTMLElement).dataset.active,
    highlighted: element.querySelectorAll('.is-active').length,
  }));
}

type Expected = 'run' | 'new run' | 'no run' | RunManagerErrorType;

/** What getRun() and then reset() show for user u1 on a freshly reset emulator. */
const TOUR: Record<StrategyName, { getRun: Expected; reset: Expected }> = {
  'reuse-never': { getRun: 'run', reset: 'new run' },
  'reuse-per-session': { getRun: 'run', reset: 'new run' },
  'reuse-across-sessions': { getRun: 'run', reset: 'new run' },
  'reuse-last-initialized': { getRun: 'run', reset: 'new run' },
  'reuse-by-tracking-key': { getRun: 'run', reset: 'new run' },
  'reuse-by-tracking-key-multiplayer': { getRun: 'run', reset: 'new run' },
  multiplayer: { getRun: 'run', reset: 'new run' },
  'use-specific-run': { getRun: 'run', reset: 'RESET_NOT_SUPPORTED' },
  none: { getRun: 'no run', reset: 'no run' },
  'conditional-creation': { getRun: 'run', reset: 'new run' },
};

function expectShown(shown: Shown, expected: Expected, previousRunId?: string): void {
  if (expected === 'run' || expected === 'new run') {
    expect(shown.kind, shown.text).toBe('run');
    expect(playground.emulator.getRun(shown.runId!)?.user?.id).toBe('u1');
    expect(shown.text).toContain(`"id": "${shown.runId}"`);
    if (expected === 'new run') expect(shown.runId).not.toBe(previousRunId);
  } else if (expected === 'no run') {
    expect(shown.kind, shown.text).toBe('value');
  } else {
    expect(shown.kind, shown.text).toBe('error');
    expect(shown.errorType).toBe(expected);
  }
}

describe('playground', () => {
  it('lists every built-in strategy', async () => {
    const offered = await page.$$eval('#strategy option', (options) => options.map((option) => (option as HTMLOptionElement).value));
    expect(offered).toEqual(Object.values(STRATEGY));
  });

  it('starts on Epicenter v2: v2 URL in the header, no selfAssign box', async () => {
    expect(await page.getAttribute('body', 'data-api')).toBe('v2');
    expect(await page.isChecked('input[name="api"][value="2"]')).toBe(true);
    expect(await page.textContent('#emulator-url')).toBe(playground.emulator.baseURL);
    await choose('multiplayer');
    expect(await page.isVisible('#self-assign')).toBe(false);
    expect(await page.isVisible('#strategy-v3-note')).toBe(false);
    await choose('reuse-per-session');
  });

  it.each(Object.entries(TOUR) as Array<[StrategyName, (typeof TOUR)[StrategyName]]>)('%s: getRun, reset', async (strategy, expected) => {
    await resetEmulator();
    await choose(strategy);
    const hasDiagram = existsSync(join(ROOT, 'visualizations', `${strategy}.svg`));
    expect((await chart()).mode).toBe(hasDiagram ? 'svg' : 'outline');

    const got = await press('get-run');
    expectShown(got, expected.getRun);
    if (strategy === 'use-specific-run') expect(got.runId).toBe(SPECIFIC_RUN_ID);
    await expectRequestListToMatchEmulator();
    if (strategy === 'none') expect(apiRequests(playground.emulator)).toEqual([]);
    else expect(apiRequests(playground.emulator).length).toBeGreaterThan(0);
    expect(await chart()).toMatchObject({ active: expected.getRun === 'run' || expected.getRun === 'no run' ? 'ready' : 'error' });
    expect((await chart()).highlighted).toBeGreaterThan(0);
    expect(await page.textContent('#trail')).toMatch(/^Last call: (.+ → )?ready$/);

    const reset = await press('reset');
    expectShown(reset, expected.reset, got.runId);
    await expectRequestListToMatchEmulator();
    expect((await chart()).active).toBe(expected.reset === 'RESET_NOT_SUPPORTED' ? 'error' : 'ready');
    const errorTagOn = (await page.getAttribute('#tag-error', 'class'))!.split(' ').includes('on');
    expect(errorTagOn).toBe(expected.reset === 'RESET_NOT_SUPPORTED');
  });

  it('multiplayer: u2 shares u1’s world run; u3, in no world, sees NO_WORLD_FOR_USER', async () => {
    await resetEmulator();
    await choose('multiplayer', 'u1');
    const alice = await press('get-run');
    await choose('multiplayer', 'u2');
    const bob = await press('get-run');
    expect(bob.runId).toBe(alice.runId);

    await choose('multiplayer', 'u3');
    const carol = await press('get-run');
    expect(carol).toMatchObject({ kind: 'error', errorType: 'NO_WORLD_FOR_USER' });
    expect(carol.text).toContain('User u3 is not part of a world');
    expect((await chart()).active).toBe('error');
    await expectRequestListToMatchEmulator();
  });

  it('getRun([price]) shows the variables', async () => {
    await resetEmulator();
    await choose('reuse-never');
    const shown = await press('get-run-price');
    expect(shown.text).toContain('"price": 10');
  });

  it('fault controls: fail next request with 503, drop next connection, server down, latency (busy shows meanwhile)', async () => {
    await resetEmulator();
    await choose('reuse-never');

    await page.click('#fail-next');
    await page.waitForSelector('#armed:not([hidden])');
    const failed = await press('get-run');
    expect(failed).toMatchObject({ kind: 'error', errorType: 'HTTP_ERROR' });
    expect(failed.text).toContain('HTTP 503');
    await page.waitForSelector('#requests li[data-status="503"]');
    await page.waitForSelector('#armed[hidden]', { state: 'attached' });
    expect(playground.emulator.runs().map((run) => run.id)).toEqual([SPECIFIC_RUN_ID]);

    // The create POST is dropped. The library never resends a POST, but Chromium does when the
    // connection closed without an answer: then the result is the resent POST's run.
    await page.click('#drop-next');
    await page.waitForSelector('#armed:not([hidden])');
    const dropped = await press('get-run');
    await page.waitForSelector('#requests li[data-status="0"]');
    await expectRequestListToMatchEmulator();
    const posts = apiRequests(playground.emulator)
      .filter((entry) => entry.method === 'POST')
      .slice(1);
    expect(posts[0]).toMatchObject({ status: 0, fault: 'drop:before', aborted: true });
    const resent = posts.slice(1);
    if (resent.length > 0) {
      expect(resent.map((entry) => entry.status)).toEqual([201]);
      expect(dropped).toMatchObject({ kind: 'run', runId: playground.emulator.runs().at(-1)!.id });
    } else {
      expect(dropped).toMatchObject({ kind: 'error', errorType: 'NETWORK_ERROR' });
    }

    await page.check('#server-down');
    await page.waitForSelector('#server-down[data-applied="true"]', { state: 'attached' });
    const down = await press('get-run');
    expect(down).toMatchObject({ kind: 'error', errorType: 'NETWORK_ERROR' });
    await page.uncheck('#server-down');
    await page.waitForSelector('#server-down[data-applied="false"]', { state: 'attached' });
    expect((await press('get-run')).kind).toBe('run');

    await page.fill('#latency', '400');
    await expect.poll(() => playground.emulator.latency).toBe(400);
    expect(await page.textContent('#latency-value')).toBe('400 ms');
    const seq = Number(await page.getAttribute('#result', 'data-seq'));
    await page.click('#get-run');
    await page.waitForSelector('#tag-busy.on');
    await page.waitForSelector(`#result[data-seq="${seq + 1}"]`);
    expect(await page.getAttribute('#tag-busy', 'class')).not.toContain('on');
    expect((await result()).kind).toBe('run');
    expect(apiRequests(playground.emulator).at(-1)!.durationMs).toBeGreaterThanOrEqual(400);
    await page.fill('#latency', '0');
    await expect.poll(() => playground.emulator.latency).toBe(0);
  });

  it('Epicenter v3: multiplayer as u1, reuse-per-session getRun and reset, all over /api/v3/; back on v2 the run is found', async () => {
    await resetEmulator();
    try {
      await chooseApi(3);
      expect(await page.textContent('#emulator-url')).toBe(playground.emulator.v3BaseURL);

      // multiplayer as u1: the v3 World API finds w1 (u1's world) and its run is created there.
      await choose('multiplayer', 'u1');
      expect(await page.isVisible('#self-assign')).toBe(true);
      expect(await page.isChecked('#self-assign')).toBe(false);
      const world = await press('get-run');
      expectShown(world, 'run');
      expect(world.api).toBe('v3');
      expect(world.text).toContain('Epicenter v3');
      // The v3 run record (runKey, scopeBoundary) as the library returns it, with the v2 `id` beside it.
      expect(world.text).toContain(`"runKey": "${world.runId}"`);
      expect(world.text).toContain('"scopeBoundary": "WORLD"');
      expect(playground.emulator.getRun(world.runId!)?.scope?.worldId).toBe('w1');
      expect(routesSince()).toEqual(expect.arrayContaining(['GET /api/v3/acme/sim/world/g1', 'POST /api/v3/acme/sim/run/world/w1']));
      expect((await chart()).active).toBe('ready');
      await expectRequestListToMatchEmulator();

      // reuse-per-session as u1: create, then reset creates another; GROUP-scoped v3 runs.
      await choose('reuse-per-session', 'u1');
      const beforeSession = lastSeq();
      const got = await press('get-run');
      expectShown(got, 'run');
      expect(got.api).toBe('v3');
      const reset = await press('reset');
      expectShown(reset, 'new run', got.runId);
      expect(reset).toMatchObject({ api: 'v3' });
      expect(reset.text).toMatch(/^created\s*reset\(\)/);
      expect(reset.text).toContain(`"runKey": "${reset.runId}"`);
      // A group run: the v3 session named the group's key.
      expect(reset.text).toContain('"scopeBoundary": "GROUP"');
      expect(reset.text).toContain(`"scopeKey": "${GROUP_KEY}"`);
      expect(routesSince(beforeSession)).toContain('POST /api/v3/acme/sim/run');
      expect((await chart()).active).toBe('ready');
      await expectRequestListToMatchEmulator();

      // Every request since the switch went to /api/v3/ (the stopped v2 manager sent nothing), with
      // the v3 token: the group's key and the user's key.
      const v3Requests = apiRequests(playground.emulator);
      expect(v3Requests.length).toBeGreaterThan(0);
      expect(v3Requests.filter((entry) => !entry.path.startsWith('/api/v3/acme/sim/'))).toEqual([]);
      expect(new Set(v3Requests.map((entry) => entry.user))).toEqual(new Set(['u1']));
      const listed = await shownRequests();
      expect(listed).toHaveLength(v3Requests.length);
      expect(listed.every((item) => item.api === 'v3' && /^[A-Z]+ \/api\/v3\/acme\/sim\//.test(item.call))).toBe(true);
      expect(listed.map((item) => item.call)).toEqual(
        expect.arrayContaining([`POST /api/v3/acme/sim/run/world/w1`, `POST /api/v3/acme/sim/run`]),
      );
      expect(listed.some((item) => item.call.startsWith('GET /api/v3/acme/sim/world/g1'))).toBe(true);

      // Back to v2: same session record, one store, so the run reset on v3 is loaded over /v2/.
      await chooseApi(2);
      expect(await page.textContent('#emulator-url')).toBe(playground.emulator.baseURL);
      expect(await page.isVisible('#self-assign')).toBe(false);
      const beforeV2 = lastSeq();
      const back = await press('get-run');
      expect(back).toMatchObject({ kind: 'run', api: 'v2', runId: reset.runId });
      expect(back.text).toMatch(/^reused/);
      expect(routesSince(beforeV2)).toEqual([`GET /v2/run/acme/sim/${reset.runId!}/`]);
      await expectRequestListToMatchEmulator();
      expect((await shownRequests())[0]).toEqual({ api: 'v2', call: `GET /v2/run/acme/sim/${reset.runId!}/` });
    } finally {
      await chooseApi(2);
    }
  });

  it('Epicenter v3 multiplayer: selfAssign puts u3 (in no world) in w1, where u3 shares u1’s run', async () => {
    await resetEmulator();
    try {
      await chooseApi(3);
      await choose('multiplayer', 'u1');
      expect(await page.textContent('#strategy-v3-note')).toContain('selfAssign');
      const alice = await press('get-run');
      expect(alice).toMatchObject({ kind: 'run', api: 'v3' });

      // Without selfAssign, u3 is in no world on v3 too.
      await choose('multiplayer', 'u3');
      const lost = await press('get-run');
      expect(lost).toMatchObject({ kind: 'error', errorType: 'NO_WORLD_FOR_USER', api: 'v3' });
      expect(lost.text).toContain('User u3 is not part of a world');
      expect((await chart()).active).toBe('error');

      // With it, the library asks the World API to place u3, then loads the world's run.
      await page.check('#self-assign');
      expect(await page.textContent('#strategy-options')).toBe('strategyOptions: {"selfAssign":{"objective":"MINIMUM"}}');
      const beforeAssign = lastSeq();
      const carol = await press('get-run');
      expect(carol).toMatchObject({ kind: 'run', api: 'v3', runId: alice.runId });
      expect(carol.text).toMatch(/^reused/);
      const selfAssign = apiRequests(playground.emulator).find(
        (entry) => entry.seq > beforeAssign && entry.method === 'POST' && entry.path === '/api/v3/acme/sim/world/selfassign/g1',
      );
      expect(selfAssign).toMatchObject({ status: 200, user: 'u3', body: { objective: 'MINIMUM' } });
      expect(
        playground.emulator
          .worlds()
          .find((world) => world.id === 'w1')
          ?.users?.map((user) => user.userId),
      ).toEqual(['u1', 'u2', 'u3']);
      expect((await chart()).active).toBe('ready');
      await expectRequestListToMatchEmulator();
      expect(await shownRequests()).toContainEqual({ api: 'v3', call: 'POST /api/v3/acme/sim/world/selfassign/g1' });

      mkdirSync(join(ROOT, 'test/browser/__screenshots__'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT_V3, fullPage: true });
      expect(existsSync(SCREENSHOT_V3)).toBe(true);
    } finally {
      if (await page.isChecked('#self-assign')) await page.uncheck('#self-assign');
      await chooseApi(2);
    }
    expect(await page.isVisible('#self-assign')).toBe(false);
    expect(await page.isVisible('#strategy-v3-note')).toBe(false);
  });

  it('draws an outline of the machine when there is no generated diagram', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-visualizations-'));
    const bare = await startPlayground({ visualizationsDir: empty });
    const other = await browser.newPage();
    try {
      other.on('pageerror', (error) => pageErrors.push(error.message));
      await other.goto(bare.url);
      await other.waitForSelector('body[data-ready="true"]');
      await other.click('#get-run');
      await other.waitForSelector('#result[data-kind="run"]');
      const outline = await other.$eval('#strategy-chart > .chart', (element) => ({
        mode: (element as HTMLElement).dataset.mode,
        active: (element as HTMLElement).dataset.active,
        states: [...element.querySelectorAll('[data-state-key]')].map((item) => (item as HTMLElement).dataset.stateKey),
        activeKeys: [...element.querySelectorAll('.is-active')].map((box) => (box.parentElement as HTMLElement).dataset.stateKey),
      }));
      expect(outline).toEqual({
        mode: 'outline',
        active: 'ready',
        states: Object.keys(reusePerSessionMachine.root.states),
        activeKeys: ['ready'],
      });
      expect(await other.textContent('#trail')).toBe('Last call: checkingSession → creating → ready');
    } finally {
      await other.close();
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('leaves a screenshot, with no page errors', async () => {
    await resetEmulator();
    await choose('reuse-by-tracking-key');
    await press('get-run');
    await press('reset');
    await expectRequestListToMatchEmulator();
    mkdirSync(join(ROOT, 'test/browser/__screenshots__'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
