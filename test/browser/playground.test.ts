/**
 * The playground (examples/playground) in Chromium, clicked through for every built-in strategy:
 * choose it, getRun(), reset(); the result panel, the request list (against the emulator's own
 * log), the live statechart and the fault controls must all follow. Ends with a screenshot at
 * test/browser/__screenshots__/playground.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECIFIC_RUN_ID } from '../../examples/playground/presets.js';
import { startPlayground, type Playground } from '../../examples/playground/server.js';
import { STRATEGY, type RunManagerErrorType, type StrategyName } from '../../src/index.js';
import { reusePerSessionMachine } from '../../src/machines/strategies/reuse-per-session.machine.js';
import { apiRequests, launchChromium } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = join(ROOT, 'test/browser/__screenshots__/playground.png');

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
  text: string;
}

async function result(): Promise<Shown> {
  return page.$eval('#result', (element) => {
    const { kind, runId, errorType } = (element as HTMLElement).dataset;
    return { kind, runId, errorType, text: element.textContent ?? '' };
  });
}

/** Clicks a call button and waits for the result panel to show that call's outcome. */
async function press(button: 'get-run' | 'get-run-price' | 'reset'): Promise<Shown> {
  const seq = Number(await page.getAttribute('#result', 'data-seq'));
  await page.click(`#${button}`);
  await page.waitForSelector(`#result[data-seq="${seq + 1}"]`);
  return result();
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
