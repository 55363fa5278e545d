/**
 * The framework-embedding examples in Chromium: examples/react (useSelector from @xstate/react)
 * and examples/vanilla (rm.actor.subscribe). Both log in through the `epicenterjs.session` cookie
 * and talk to the emulator (150 ms latency, so the busy indicator can be seen). Click getRun():
 * busy shows, then the run id (the emulator's run of user u1); reset() makes a new run; a failed
 * reset shows its error.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, startExample, type ExampleName, type RunningExample } from '../../examples/serve-example.js';
import { launchChromium } from './harness.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** Clicks a button and watches the busy indicator go on and off again; returns the run id shown. */
async function clickAndWatchBusy(page: Page, button: 'get-run' | 'reset'): Promise<string> {
  await page.click(`#${button}`);
  await page.waitForSelector('#busy', { state: 'visible' });
  expect(await page.getAttribute('.app', 'data-busy')).toBe('true');
  expect(await page.isDisabled('#get-run')).toBe(true);
  await page.waitForSelector('#busy', { state: 'hidden' });
  expect(await page.getAttribute('.app', 'data-busy')).toBe('false');
  return (await page.textContent('#run-id')) ?? '';
}

describe.each(Object.keys(EXAMPLES) as ExampleName[])('examples/%s', (name) => {
  let example: RunningExample;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    example = await startExample(name, { latency: 150 });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(example.url);
    await page.waitForSelector('#get-run:enabled');
  }, 60_000);
  afterAll(async () => {
    await page?.close();
    await example?.close();
  });

  it('renders, and getRun() shows busy, then the run id', async () => {
    expect(await page.textContent('#run-id')).toBe('none yet');
    expect(await page.isHidden('#busy')).toBe(true);

    const runId = await clickAndWatchBusy(page, 'get-run');
    const [run] = example.emulator.runs();
    expect(runId).toBe(run!.id);
    expect(run!.user?.id).toBe('u1'); // the session came from the epicenterjs.session cookie
    expect(await page.textContent('.app')).toContain('(created)');
  });

  it('reset() shows the new run', async () => {
    const before = await page.textContent('#run-id');
    const runId = await clickAndWatchBusy(page, 'reset');
    expect(runId).not.toBe(before);
    expect(example.emulator.runs().map((run) => run.id)).toEqual([before, runId]);
  });

  it('a failed reset() shows the error, and the next getRun() clears it', async () => {
    example.emulator.fail({ method: 'POST', status: 503 });
    await clickAndWatchBusy(page, 'reset');
    await page.waitForSelector('#error', { state: 'visible' });
    expect(await page.textContent('#error')).toMatch(/^HTTP_ERROR: .*\b503\b/);

    await clickAndWatchBusy(page, 'get-run');
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.textContent('.app')).toContain('(reused)');
    expect(pageErrors).toEqual([]);
  });
});
