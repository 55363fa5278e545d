/**
 * Cross-tab single-flight in Chromium: tabs of one origin (pages of one browser
 * context, sharing IndexedDB and Web Locks) that resolve the same session key for the same user
 * at the same moment create at most one run. Each tab arms a RunManager behind a start barrier;
 * the barriers open on all tabs at once (a BroadcastChannel message). The emulator answers after
 * 50 ms, creates after 250 ms, so every create stays in flight long enough for the other tabs to
 * race it even on a busy machine. Controls with a coordinator that never waits show the race is
 * real (so these tests can fail).
 */
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ArmOptions, Outcome } from './fixtures/library-page.js';
import { createPosts, settledRequests, useLibrarySuite, userSession } from './harness.js';

const suite = useLibrarySuite({ latency: 50 });

beforeEach(() => {
  suite.emulator.slow({ method: 'POST', delayMs: 200, times: Number.POSITIVE_INFINITY });
});

async function openTabs(count: number): Promise<Page[]> {
  const context = await suite.newContext();
  return Promise.all(Array.from({ length: count }, () => suite.openPage(context)));
}

/**
 * Arms every tab, opens all barriers at once (the first tab broadcasts the start to the others),
 * and collects what each tab's call ended with.
 */
async function race(tabs: Page[], options: Omit<ArmOptions, 'baseURL' | 'session'>): Promise<Outcome[]> {
  const armed: ArmOptions = { ...options, baseURL: suite.emulator.baseURL, session: userSession('u1') };
  await Promise.all(tabs.map((tab) => tab.evaluate((o) => window.testKit.arm(o), armed)));
  await tabs[0]!.evaluate(() => window.testKit.go());
  const outcomes = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.testKit.outcome!)));
  await settledRequests(suite.emulator);
  return outcomes;
}

function succeeded(outcomes: Outcome[]): Array<Extract<Outcome, { ok: true }>> {
  return outcomes.filter((outcome): outcome is Extract<Outcome, { ok: true }> => outcome.ok);
}

describe('getRun() from several tabs at the same moment (reuse-per-session, no run yet)', () => {
  it.each([2, 5])('%i tabs: exactly one run is created, and every tab gets it', async (count) => {
    const tabs = await openTabs(count);
    const outcomes = await race(tabs, { coordination: 'web-locks', action: 'getRun' });

    const runs = succeeded(outcomes);
    expect(runs).toHaveLength(count);
    expect(new Set(runs.map((run) => run.id)).size).toBe(1);
    expect(runs.filter((run) => run.freshlyCreated)).toHaveLength(1);
    expect(createPosts(suite.emulator)).toHaveLength(1);
    expect(suite.emulator.runs().map((run) => run.id)).toEqual([runs[0]!.id]);
  });

  it.each([2, 5])('control: %i tabs with a coordinator that never waits create several runs', async (count) => {
    const tabs = await openTabs(count);
    const outcomes = await race(tabs, { coordination: 'none', action: 'getRun' });

    expect(succeeded(outcomes)).toHaveLength(count);
    expect(createPosts(suite.emulator).length).toBeGreaterThan(1);
    expect(suite.emulator.runs().length).toBeGreaterThan(1);
  });
});

describe('reset() from two tabs at the same moment (reuse-by-tracking-key, runLimit 1)', () => {
  const tracking = { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', runLimit: 1 } } };
  const runsWithKey = () => suite.emulator.runs().filter((run) => run.scope?.trackingKey === 'k' && run.trashed !== true);

  it('never leaves two runs: one reset creates, the other is refused RUN_LIMIT_REACHED', async () => {
    const tabs = await openTabs(2);

    const first = await race(tabs, { ...tracking, coordination: 'web-locks', action: 'reset' });
    expect(succeeded(first)).toHaveLength(1);
    expect(first.filter((outcome) => !outcome.ok)).toEqual([
      { ok: false, type: 'RUN_LIMIT_REACHED', message: 'You have reached your run limit and cannot create new runs.' },
    ]);
    expect(createPosts(suite.emulator)).toHaveLength(1);
    expect(runsWithKey().map((run) => run.id)).toEqual([succeeded(first)[0]!.id]);

    // At the limit already: both are refused, still one run.
    const second = await race(tabs, { ...tracking, coordination: 'web-locks', action: 'reset' });
    expect(second.map((outcome) => (outcome.ok ? 'ok' : outcome.type))).toEqual(['RUN_LIMIT_REACHED', 'RUN_LIMIT_REACHED']);
    expect(createPosts(suite.emulator)).toHaveLength(1);
    expect(runsWithKey()).toHaveLength(1);
  });

  it('control: with a coordinator that never waits, both resets pass the limit check and two runs exist', async () => {
    const tabs = await openTabs(2);
    const outcomes = await race(tabs, { ...tracking, coordination: 'none', action: 'reset' });

    expect(succeeded(outcomes)).toHaveLength(2);
    expect(createPosts(suite.emulator)).toHaveLength(2);
    expect(runsWithKey()).toHaveLength(2);
  });
});
