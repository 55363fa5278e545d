/**
 * Figure 5, memory: the heap an idle manager holding a ready run keeps alive, over 10,000
 * managers (one user each, each with its own memory session store, the canned in-process
 * transport — no sockets), for the RunManager and for the hand-written baseline.
 *
 * Measured twice: right after the getRuns, and again 16 s later, past the 15 s request timeout, so
 * anything a finished request still kept alive until its timer fired would show as a difference.
 * Needs `--expose-gc`; prints one JSON line.
 *
 * ```sh
 * node --expose-gc --import tsx bench/scale-memory.ts [--managers 10000]
 * ```
 */
import { createDevToken } from '../src/emulator/index.js';
import { createMemorySessionStore, RunManager, type Run } from '../src/index.js';
import { createRunApi } from '../src/services/run-api.js';
import { BaselineManager } from './baseline/strategies.js';
import { CANNED_BASE_URL, cannedOfetch } from './lib/canned-transport.js';
import { argValue } from './lib/report.js';
import { ACCOUNT, MODEL, PROJECT } from './lib/scenarios.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('scale-memory.ts needs --expose-gc');
  process.exit(2);
}
const collect = gc;

const count = Number(argValue('managers') ?? 10_000);
/** Longer than the 15 s default request timeout, whose timer keeps a finished request's signals alive. */
const SETTLE_MS = 16_000;
const CONCURRENCY = 64;

function heapUsed(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

const $fetch = cannedOfetch({ queriesFindRun: true });

function session(index: number) {
  const userId = `idle-${index}`;
  return { userId, groupName: 'g1', auth_token: createDevToken({ userId }) };
}

function ours(index: number): { getRun(): Promise<Run> } {
  return new RunManager({
    run: { account: ACCOUNT, project: PROJECT, model: MODEL, baseURL: CANNED_BASE_URL },
    strategy: 'reuse-per-session',
    session: session(index),
    sessionStore: createMemorySessionStore(),
    fetch: $fetch,
  });
}

function baseline(index: number): { getRun(): Promise<Run> } {
  const user = session(index);
  return new BaselineManager({
    strategy: 'reuse-per-session',
    api: createRunApi({ baseURL: CANNED_BASE_URL, account: ACCOUNT, project: PROJECT, token: () => user.auth_token, fetch: $fetch }),
    config: { account: ACCOUNT, project: PROJECT, model: MODEL },
    session: user,
    store: createMemorySessionStore(),
  });
}

async function build(make: (index: number) => { getRun(): Promise<Run> }): Promise<unknown[]> {
  const managers: Array<{ getRun(): Promise<Run> }> = [];
  for (let start = 0; start < count; start += CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONCURRENCY, count - start) }, (_, offset) => make(start + offset));
    await Promise.all(batch.map((manager) => manager.getRun()));
    managers.push(...batch);
  }
  return managers;
}

const before = heapUsed();
let oursManagers: unknown[] | null = await build(ours);
const afterOurs = heapUsed();
let baselineManagers: unknown[] | null = await build(baseline);
const afterBaseline = heapUsed();
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const settledBoth = heapUsed();
// Dropping the references is the point: the heap is read right after.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
baselineManagers = null;
const settledOurs = heapUsed();
const kept = oursManagers.length;
// eslint-disable-next-line no-useless-assignment
oursManagers = null;
const empty = heapUsed();

console.log(
  JSON.stringify({
    managers: count,
    kept,
    bytesPerManager: {
      ours: { immediate: (afterOurs - before) / count, settled: (settledOurs - before) / count },
      baseline: { immediate: (afterBaseline - afterOurs) / count, settled: (settledBoth - settledOurs) / count },
    },
    heapMB: {
      before: before / 2 ** 20,
      afterOurs: afterOurs / 2 ** 20,
      afterBaseline: afterBaseline / 2 ** 20,
      settledBoth: settledBoth / 2 ** 20,
      settledOurs: settledOurs / 2 ** 20,
      empty: empty / 2 ** 20,
    },
    settleMs: SETTLE_MS,
  }),
);
