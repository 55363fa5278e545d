/**
 * The fault-injection soak (`npm run soak`), small: 60 simulated users against an emulator that
 * injects seeded 503s, 429s with Retry-After, dropped sockets, stalls past the client timeout and
 * truncated JSON, then 30 contention users (several managers each, random stops, hanging and
 * throwing collaborators, hostile `__proto__` input). Every invariant of `scripts/soak/checks.ts`
 * and `scripts/soak/contention.ts` must hold for every user.
 */
import { describe, expect, it } from 'vitest';
import { createDevToken, startEmulator } from '../../src/emulator/index.js';
import { scheduleFingerprint } from '../../scripts/soak/faults.js';
import { formatReport } from '../../scripts/soak/report.js';
import { runSoak, SOAK_DEFAULTS } from '../../scripts/soak/run.js';
import { planUser } from '../../scripts/soak/user.js';

describe('fault-injection soak', () => {
  it('keeps every invariant for 60 users under seeded faults', async () => {
    // Seed 3's schedule truncates the answer to a reuse-last-initialized create (see lost-create.test.ts).
    const report = await runSoak({ seed: 3, users: 60, concurrency: 20, contentionUsers: 30 });
    const text = formatReport(report);

    expect(report.unhandledRejections, text).toEqual([]);
    expect(report.violations, text).toEqual([]);
    // The soak really exercised what it claims to: every kind of fault reached the client.
    for (const kind of ['fail:503', 'fail:429', 'drop:before', 'drop:after', 'slow:500', 'truncate']) {
      expect(report.faultsInjected[kind] ?? 0, `${kind} injected\n${text}`).toBeGreaterThan(0);
    }
    expect(report.retries.fixedByRetry, text).toBeGreaterThan(0);
    expect(report.retries.retryAfterChecked, text).toBeGreaterThan(0);
    expect(Object.keys(report.usersByStrategy).sort()).toEqual([
      'multiplayer',
      'reuse-across-sessions',
      'reuse-by-tracking-key',
      'reuse-last-initialized',
      'reuse-never',
      'reuse-per-session',
    ]);
    // Every user ends with a run it can work with.
    expect(report.calls.getRun2.ok + report.calls.getRun2.failed).toBe(60);
    // The contention phase attacked what it claims to: stops, hostile input, broken collaborators,
    // several managers per user on one lock — and the lock never had two holders.
    const { contention } = report;
    expect(contention.users, text).toBe(30);
    expect(contention.managers, text).toBeGreaterThan(3 * 30 - 1);
    for (const figure of ['stops', 'hostileInputs', 'hangingCollaborators', 'throwingCollaborators', 'lockGrants'] as const) {
      expect(contention[figure], `${figure}\n${text}`).toBeGreaterThan(0);
    }
    for (const outcome of ['ok', 'ABORTED', 'INVALID_OPTIONS', 'TIMEOUT', 'UNAUTHORIZED']) {
      expect(contention.outcomes[outcome] ?? 0, `${outcome}\n${text}`).toBeGreaterThan(0);
    }
    expect(contention.mostHolders, text).toBe(1);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('draws the same fault schedule and the same users from the same seed', () => {
    const settings = { seed: 7, rate: SOAK_DEFAULTS.faultRate, stallMs: 500, retries: 2, retryAfterSeconds: 1 };
    expect(scheduleFingerprint(settings, 50)).toBe(scheduleFingerprint({ ...settings }, 50));
    expect(scheduleFingerprint(settings, 50)).not.toBe(scheduleFingerprint({ ...settings, seed: 8 }, 50));
    expect(Array.from({ length: 20 }, (_, index) => planUser(7, index))).toEqual(
      Array.from({ length: 20 }, (_, index) => planUser(7, index)),
    );
  });

  it('the emulator holds many delayed requests at once without a MaxListenersExceededWarning', async () => {
    // The soak stalls dozens of requests at a time (and `latency` delays every request).
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const emulator = await startEmulator({ latency: 50 });
    try {
      const headers = { Authorization: `Bearer ${createDevToken({ userId: 'u1' })}` };
      await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${emulator.baseURL}run/acme/sim/;/`, { headers }).then((response) => response.text())),
      );
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      await emulator.close();
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
