/**
 * Real IndexedDB in Chromium: the DEFAULT session store (idb-keyval, database `run-lifecycle`,
 * store `sessions`) keeps a user's run across page reloads, keeps the run a reset made, ignores
 * another user's record and survives corrupt records. Every claim is
 * checked against the emulator's runs and request log.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiRequests, createPosts, reload, SESSION_KEY, settledRequests, useLibrarySuite, userSession } from './harness.js';

const suite = useLibrarySuite();

interface Resolved {
  id: string;
  freshlyCreated: boolean;
  userId: string | null;
}

/**
 * On the page: a reuse-per-session RunManager with the default session store (nothing passed),
 * one `getRun()` or `reset()`, then `stop()` — as a page would before it unloads.
 */
function resolveOnPage(page: Page, userId: string, action: 'getRun' | 'reset' = 'getRun'): Promise<Resolved> {
  return page.evaluate(
    async ({ baseURL, session, action }) => {
      const rm = new window.runLifecycle.RunManager({
        run: { account: 'acme', project: 'sim', model: 'model.py', baseURL },
        strategy: 'reuse-per-session',
        session,
        retry: { retries: 0 },
      });
      try {
        const run = action === 'reset' ? await rm.reset() : await rm.getRun();
        return { id: run.id, freshlyCreated: run.freshlyCreated === true, userId: run.user?.id ?? null };
      } finally {
        rm.stop();
      }
    },
    { baseURL: suite.emulator.baseURL, session: userSession(userId), action },
  );
}

function storedRecord(page: Page): Promise<unknown> {
  return page.evaluate((key) => window.testKit.idbGet(key), SESSION_KEY);
}

const recordOf = (runId: string, userId: string) => ({ v: 1, runId, userId, model: 'model.py', savedAt: expect.any(Number) });

describe('default session store (IndexedDB) in Chromium', () => {
  it('reuse-per-session keeps the user’s run across a page reload', async () => {
    const page = await suite.openPage();
    const first = await resolveOnPage(page, 'u1');
    expect(first).toMatchObject({ freshlyCreated: true, userId: 'u1' });
    expect(await storedRecord(page)).toEqual(recordOf(first.id, 'u1'));

    await reload(page);
    suite.emulator.clearLog();
    const again = await resolveOnPage(page, 'u1');
    expect(again).toEqual({ id: first.id, freshlyCreated: false, userId: 'u1' });
    // After the reload: one load of the remembered run, no create.
    expect((await settledRequests(suite.emulator)).map((entry) => `${entry.method} ${entry.path}`)).toEqual([
      `GET /v2/run/acme/sim/${first.id}/`,
    ]);
    expect(suite.emulator.runs().map((run) => run.id)).toEqual([first.id]);
  });

  it('after reset() and a reload, keeps the run the reset made', async () => {
    const page = await suite.openPage();
    const first = await resolveOnPage(page, 'u1');
    const reset = await resolveOnPage(page, 'u1', 'reset');
    expect(reset.id).not.toBe(first.id);
    expect(reset.freshlyCreated).toBe(true);

    await reload(page);
    const afterReload = await resolveOnPage(page, 'u1');
    expect(afterReload).toEqual({ id: reset.id, freshlyCreated: false, userId: 'u1' });
    expect(await storedRecord(page)).toEqual(recordOf(reset.id, 'u1'));
    expect(suite.emulator.runs({ userId: 'u1' }).map((run) => run.id)).toEqual([first.id, reset.id]);
    expect(createPosts(suite.emulator)).toHaveLength(2);
  });

  it('a different user logging in on the same browser does not get the previous user’s run', async () => {
    const page = await suite.openPage();
    const alice = await resolveOnPage(page, 'u1');

    await reload(page);
    suite.emulator.clearLog();
    const bob = await resolveOnPage(page, 'u2');
    expect(bob.id).not.toBe(alice.id);
    expect(bob).toMatchObject({ freshlyCreated: true, userId: 'u2' });
    // u2's manager never even asked for u1's run.
    const requests = await settledRequests(suite.emulator);
    expect(requests.map((entry) => `${entry.method} ${entry.path} as ${entry.user}`)).toEqual(['POST /v2/run/acme/sim/ as u2']);
    expect(await storedRecord(page)).toEqual(recordOf(bob.id, 'u2'));
    expect(suite.emulator.runs({ userId: 'u2' }).map((run) => run.id)).toEqual([bob.id]);
    expect(suite.emulator.runs({ userId: 'u1' }).map((run) => run.id)).toEqual([alice.id]);

    await reload(page);
    expect(await resolveOnPage(page, 'u2')).toEqual({ id: bob.id, freshlyCreated: false, userId: 'u2' });
  });

  it('a corrupt record written by hand into run-lifecycle/sessions is survived: a new run, the entry replaced', async () => {
    const corrupt: Array<[string, (existingRunId: string) => unknown]> = [
      ['a string', () => 'not a record'],
      ['a legacy JSON string of the original cookie shape', (runId) => JSON.stringify({ runId, userId: 'u1' })],
      ['a record of an unknown version', (runId) => ({ v: 99, runId, userId: 'u1', model: 'model.py', savedAt: Date.now() })],
      ['{ v: 99 }', () => ({ v: 99 })],
      ['a record for another model', (runId) => ({ v: 1, runId, userId: 'u1', model: 'other.py', savedAt: Date.now() })],
      ['a record without a run id', () => ({ v: 1, userId: 'u1', model: 'model.py', savedAt: Date.now() })],
      ['an array', (runId) => [runId]],
      ['a number', () => 42],
    ];
    const page = await suite.openPage();
    for (const [what, makeValue] of corrupt) {
      suite.emulator.reset();
      // A real run of u1 that the corrupt entry points at: the manager must not pick it up.
      const [existing] = suite.emulator.seed({ runs: [{ account: 'acme', project: 'sim', model: 'model.py', user: { id: 'u1' } }] }).runs;
      await page.evaluate(([key, value]) => window.testKit.idbPut(key as string, value), [SESSION_KEY, makeValue(existing!.id)] as const);

      const run = await resolveOnPage(page, 'u1');
      expect(run, what).toMatchObject({ freshlyCreated: true, userId: 'u1' });
      expect(run.id, what).not.toBe(existing!.id);
      const requests = await settledRequests(suite.emulator);
      expect(
        requests.map((entry) => `${entry.method} ${entry.path}`),
        what,
      ).toEqual(['POST /v2/run/acme/sim/']);
      expect(await storedRecord(page), what).toEqual(recordOf(run.id, 'u1'));

      await reload(page);
      expect(await resolveOnPage(page, 'u1'), what).toEqual({ id: run.id, freshlyCreated: false, userId: 'u1' });
      expect(
        apiRequests(suite.emulator).filter((entry) => entry.path === `/v2/run/acme/sim/${existing!.id}/`),
        what,
      ).toEqual([]);
      expect(
        suite.emulator.runs({ userId: 'u1' }).map((entry) => entry.id),
        what,
      ).toEqual([existing!.id, run.id]);
    }
  });
});
