/**
 * Prints a soak report: the seed and fingerprints first (to reproduce a run), then the figures,
 * then every broken invariant.
 */
import type { SoakReport } from './run.js';

const FAULT_NAMES: Record<string, string> = {
  'fail:503': '503',
  'fail:429': '429 + Retry-After',
  'drop:before': 'socket dropped before processing',
  'drop:after': 'socket dropped after processing',
  truncate: 'truncated JSON',
};

function faultName(kind: string): string {
  if (kind.startsWith('slow:')) return `stalled ${kind.slice(5)} ms (past the timeout)`;
  return FAULT_NAMES[kind] ?? kind;
}

function table(values: Record<string | number, number>): string {
  return Object.entries(values)
    .sort(([a], [b]) => (Number.isNaN(Number(a)) ? a.localeCompare(b) : Number(a) - Number(b)))
    .map(([key, value]) => `${key}: ${value}`)
    .join(', ');
}

/**
 * The report as text.
 *
 * @example
 * ```ts
 * console.log(formatReport(await runSoak({ seed: 2 })));
 * ```
 */
export function formatReport(report: SoakReport): string {
  const { options } = report;
  const lines: string[] = [];
  const say = (line = '') => lines.push(line);
  say(`soak seed ${options.seed}: ${options.users} users, concurrency ${options.concurrency}, fault rate ${options.faultRate}`);
  say(
    `  timeout ${options.timeoutMs} ms, stall ${options.stallMs} ms, retries ${options.retry.retries} (base ${options.retry.baseDelayMs} ms, cap ${options.retry.maxDelayMs} ms), up to ${options.maxPresses} presses per call`,
  );
  say(
    `  schedule fingerprint ${report.scheduleFingerprint}, applied fingerprint ${report.appliedFingerprint}, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  say(`users by strategy   ${table(report.usersByStrategy)}`);
  say(
    `requests            ${report.requests.total} (${table(report.requests.byMethod)}), ${report.requests.aborted} closed without an answer`,
  );
  const injected = Object.values(report.faultsInjected).reduce((sum, value) => sum + value, 0);
  say(`faults injected     ${injected}`);
  for (const [kind, count] of Object.entries(report.faultsInjected).sort(([a], [b]) => a.localeCompare(b))) {
    say(`  ${faultName(kind).padEnd(36)} ${count}`);
  }
  say(`  (registered: ${table(report.faultsRegistered)}; an outage is three 503s on one GET)`);
  say(
    `client GET retries  ${report.retries.logRepeats} GET repeats in the log (${report.retries.clientRetries} repeated attempts as the client made them)`,
  );
  say(
    `                    ${report.retries.fixedByRetry} GETs fixed by a retry, ${report.retries.exhausted} failed every attempt, ${report.retries.retryAfterChecked} retries after a 429 waited for Retry-After`,
  );
  say(`user presses again  ${report.userRetries}`);
  say(
    `calls (last press)  ${Object.entries(report.calls)
      .map(([call, { ok, failed }]) => `${call} ${ok} ok / ${failed} failed`)
      .join(', ')}`,
  );
  say(`errors by type      ${Object.keys(report.errorsByType).length ? table(report.errorsByType) : 'none'}`);
  say(`runs per user       all runs → users: ${table(report.runsPerUser.all)}`);
  say(`                    live runs → users: ${table(report.runsPerUser.live)}`);
  const c = report.contention;
  say(
    `contention phase    ${c.users} users, ${c.managers} managers, ${c.calls} calls, ${c.stops} stopped at random, ${c.hostileInputs} hostile inputs`,
  );
  say(
    `                    timeout ${c.timeoutMs} ms; ${c.hangingCollaborators} hanging and ${c.throwingCollaborators} throwing stores or session providers (${c.warnings} warnings)`,
  );
  say(
    `                    ${c.lockGrants} lock grants, most holders of one lock at once: ${c.mostHolders}; ${c.stopOrphans} runs created by a stopped manager after it left`,
  );
  say(`                    outcomes ${table(c.outcomes)}`);
  say(`unhandled rejections ${report.unhandledRejections.length}`);
  for (const reason of report.unhandledRejections.slice(0, 10)) say(`  ${reason}`);
  if (report.violations.length === 0) {
    say('invariants          all held');
  } else {
    say(`invariants          ${report.violations.length} violations`);
    const byCheck: Record<string, number> = {};
    const byStrategy: Record<string, number> = {};
    for (const violation of report.violations) {
      byCheck[violation.check] = (byCheck[violation.check] ?? 0) + 1;
      byStrategy[violation.strategy] = (byStrategy[violation.strategy] ?? 0) + 1;
    }
    say(`  by check: ${table(byCheck)}; by strategy: ${table(byStrategy)}`);
    for (const violation of report.violations.slice(0, 40))
      say(`  [${violation.check}] ${violation.user} (${violation.strategy}): ${violation.detail}`);
    if (report.violations.length > 40) say(`  … ${report.violations.length - 40} more`);
  }
  return lines.join('\n');
}
