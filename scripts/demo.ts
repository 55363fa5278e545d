/**
 * run-lifecycle demo: every run-creation strategy, walked through against the local Run API emulator.
 *
 * For each strategy it calls getRun(), getRun(['price']) and reset() (plus a step or two that shows
 * what makes the strategy special) and prints, per step:
 *   path      the states the strategy statechart went through (from xstate inspection events),
 *   requests  what the emulator received (method, decoded URL, status, body),
 *   result    the run returned (#n = order of first appearance, …last 6 characters of its id)
 *             or the typed rejection the step is meant to show.
 * It ends with a summary of request counts next to the original Epicenter.js's.
 *
 *   npm run demo                          full walkthrough, Epicenter v2 (`/v2/…`)
 *   npm run demo -- --v3                  the same on Epicenter v3 (`/api/v3/…`), plus self-assignment
 *   npm run demo -- --quiet               summary only
 *   npm run demo -- --trace trace.jsonl   also write a trace of every actor (one JSON line per
 *                                         actor, event and snapshot; sanitized, no token)
 *   npm run demo -- --help                these options
 * Exits 1 with "demo failed: …" when a step does not behave as shown, 2 on a usage error.
 */
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createMemorySessionStore, createTraceRecorder, RunManager, RunManagerError, strategies } from '../src/index.js';
import type { Run, RunManagerOptions, RunService, UserSession } from '../src/index.js';
import { createDevToken, startEmulator, type Emulator, type RequestLogEntry } from '../src/emulator/index.js';

const USAGE = `Usage: npm run demo -- [options]      (or: npx tsx scripts/demo.ts [options])

Walks every run strategy through getRun(), getRun(['price']) and reset() against a local Run API
emulator, printing each step's statechart path, requests and result, then request counts next to
the original library's.

Options:
  --v3              run on Epicenter v3 (/api/v3/…), with world self-assignment
  --quiet           print the summary only
  --trace <file>    also write a trace of every actor to <file> (JSON lines, sanitized, no token)
  -h, --help        show this help
`;

type DemoArgs = { kind: 'help' } | { kind: 'run'; quiet: boolean; v3: boolean; traceFile?: string } | { kind: 'error'; message: string };

/** Reads the tokens itself so every mistake gets one plain line (Node's own wording is long and odd). */
function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const options = {
    v3: { type: 'boolean' },
    quiet: { type: 'boolean' },
    trace: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return { kind: 'help' };
  const parsed: DemoArgs & { kind: 'run' } = { kind: 'run', quiet: false, v3: false };
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') return { kind: 'error', message: `unexpected argument ${JSON.stringify(token.value)}` };
    const { name, rawName, value } = token;
    if (name === 'v3' || name === 'quiet') {
      if (value !== undefined) return { kind: 'error', message: `${rawName} takes no value, got ${JSON.stringify(value)}` };
      parsed[name] = true;
    } else if (name === 'trace') {
      // Without a value Node takes the next argument, even an option: `--trace --v3` is a forgotten file name.
      if (value === undefined || value === '' || (!token.inlineValue && value.startsWith('-'))) {
        return { kind: 'error', message: '--trace needs a file name, e.g. --trace trace.jsonl' };
      }
      if (parsed.traceFile !== undefined) return { kind: 'error', message: '--trace is given more than once' };
      parsed.traceFile = value;
    } else {
      return { kind: 'error', message: `unknown option ${rawName}` };
    }
  }
  return parsed;
}

const cli = parseDemoArgs(process.argv.slice(2));
if (cli.kind === 'help') process.stdout.write(USAGE);
if (cli.kind === 'error') {
  process.stderr.write(`demo: ${cli.message}\nRun npm run demo -- --help for the options.\n`);
  process.exitCode = 2;
}
const { quiet = false, v3 = false, traceFile } = cli.kind === 'run' ? cli : {};
const tty = process.stdout.isTTY;
const paint = (code: number) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const [bold, dim, green, yellow, red, cyan] = [paint(1), paint(2), paint(32), paint(33), paint(31), paint(36)];
const say = (line = '') => quiet || console.log(line);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const OLD_AFTER_MS = 300; // conditional-creation replaces runs older than this
const INIT_OPS = ['init', { step: [10] }]; // reuse-last-initialized: 2 operations, then the PATCH flag

// ── Watching the strategy statechart ─────────────────────────────────────────────────────────────
// The run-manager actor invokes the strategy machine with id `strategy`. Snapshot events give the
// states it settles in; microstep events also name the transient ones it only passes through
// (e.g. `checkingSession`, whose `always` transitions pick the next state). One list per child.
let paths = new Map<string, string[]>();
function inspect(event: InspectionEvent): void {
  if ((event.actorRef as AnyActorRef).id !== 'strategy') return; // the type hides `id`; the actor has it
  if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.microstep') return;
  const path = paths.get(event.actorRef.sessionId) ?? [];
  paths.set(event.actorRef.sessionId, path);
  const visited = event.type === '@xstate.microstep' ? event._transitions.map((t) => t.source.key) : [];
  const value = (event.snapshot as { value?: unknown }).value;
  for (const state of [...visited, ...(typeof value === 'string' ? [value] : [])]) {
    if (path.at(-1) !== state) path.push(state);
  }
}

// ── Tracing (--trace <file>) ───────────────────────────────────────────────────────────────────
// Every manager's inspection events also go to one trace recorder: a JSON line per actor, event and
// snapshot of every actor, written to the file by a Node write stream.
const traceStream = traceFile ? createWriteStream(traceFile, { flags: 'w' }) : undefined;
const trace = traceStream ? createTraceRecorder({ write: (line) => traceStream.write(`${line}\n`) }) : undefined;
const observe = trace
  ? (event: InspectionEvent) => {
      inspect(event);
      trace.next(event);
    }
  : inspect;
async function closeTrace(): Promise<void> {
  if (!trace || !traceStream) return;
  await trace.close();
  await new Promise<void>((resolve, reject) => {
    traceStream.once('error', reject);
    traceStream.end(resolve);
  });
  console.log(dim(`trace: ${trace.lines} lines written to ${traceFile}`));
}

// ── Printing runs and requests ───────────────────────────────────────────────────────────────────
// Runs are numbered in order of first appearance and remember which strategy's walk made them, so a
// run picked up again later (reuse-across-sessions, use-specific-run) is easy to spot.
const seenRuns = new Map<string, { n: number; by: string }>();
let walking = '';
function seen(id: string): { n: number; by: string } {
  if (!seenRuns.has(id)) seenRuns.set(id, { n: seenRuns.size + 1, by: walking });
  return seenRuns.get(id)!;
}
const shortIds = (text: string) => text.replace(/\b[0-9a-f]{30}([0-9a-f]{6})\b/g, '…$1');

const decode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};
const short = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const json = (value: unknown) => JSON.stringify(value).replace(/"(\w+)":/g, '$1:');

function describeResult(result: unknown): string {
  if (result === undefined) return dim('undefined (nothing to reset)');
  if (result instanceof Object && 'getCurrentConfig' in result) return dim('no run: the RunService itself (nothing was resolved)');
  const run = result as Run;
  const { n, by } = seen(run.id);
  const parts = [bold(`#${n} …${run.id.slice(-6)}`), `freshlyCreated=${run.freshlyCreated ? green('true') : 'false'}`];
  if (by !== walking) parts[0] = `${parts[0]!}${dim(` (made during ${by})`)}`;
  if (run.variables) parts.push(`variables=${json(run.variables)}`);
  if (run.settings) parts.push(`settings=${json(run.settings)}`);
  if (run.world) parts.push(`world=${run.world.id}`);
  if (run.scope?.trackingKey) parts.push(`scope.trackingKey=${run.scope.trackingKey}`);
  return parts.join('  ');
}

function describeRequest(entry: RequestLogEntry): string {
  const url = shortIds(decode(entry.url));
  const status = entry.status < 300 ? green(String(entry.status)) : red(String(entry.status));
  const body = entry.body === undefined || entry.method === 'GET' ? '' : `  ${dim(short(json(entry.body), 60))}`;
  return `${entry.method.padEnd(6)} ${short(url, 96)}  ${status}${body}`;
}

// The emulator logs a request once its connection closes, which can be a moment after the client
// has its answer: wait for the log to stop growing before reading it.
async function settledLog(emulator: Emulator): Promise<RequestLogEntry[]> {
  let count = -1;
  while (count !== emulator.requests.length) {
    count = emulator.requests.length;
    await sleep(5);
  }
  return [...emulator.requests].sort((a, b) => a.seq - b.seq);
}

// ── The walkthrough ──────────────────────────────────────────────────────────────────────────────
type Kind = 'first' | 'steady' | 'reset';
interface Step {
  label: string;
  kind?: Kind; // counted in the summary
  act: (rm: RunManager) => Promise<unknown>;
  expectError?: string; // a typed rejection this step is meant to show
  check?: (result: unknown) => string | undefined; // returns a problem, if any
}
interface Walk {
  name: string;
  /** The strategy, when the walk's name is not one. */
  strategy?: string;
  /** Another user than alice. */
  session?: UserSession;
  about: string;
  options?: () => Record<string, unknown>; // strategyOptions, read when the manager is made
  setup?: () => string; // what was prepared on the emulator
  resetError?: string;
  extra?: (ctx: { manager: () => RunManager; lastReset: () => Run | undefined }) => Step[];
}

// A custom strategy in Epicenter.js's `{ getRun, reset }` form: the whole group shares one sandbox
// run (its newest run tracked as `team-sandbox`); reset starts a new sandbox. The library wraps it in
// a generic statechart, and sets `freshlyCreated` from whether the strategy created the run through
// `rm.run`. The same code runs on v2 and v3: the v3 client translates the v2 vocabulary.
strategies.register('team-sandbox', {
  async getRun(runService: RunService, session: UserSession) {
    const scope = { group: session.groupName, trackingKey: 'team-sandbox' };
    const [newest] = await runService.query(
      { scope, trashed: false },
      { sort: 'created', direction: 'desc', startRecord: 0, endRecord: 0 },
    );
    return newest ?? runService.create({ scope });
  },
  async reset(runService: RunService, session: UserSession) {
    return runService.create({ scope: { group: session.groupName, trackingKey: 'team-sandbox' } });
  },
});

const GROUP_KEY = 'key-g1';
/** A user of group g1: on v3 the session also names the group's key, and `userId` is the user's key. */
function userSession(userId: string, userName: string): UserSession {
  const group = v3 ? { groupName: 'g1', groupKey: GROUP_KEY } : { groupName: 'g1' };
  return { userId, userName, ...group, auth_token: createDevToken({ userId, userName, ...group }) };
}

const resetAgainHitsLimit: Walk['extra'] = () => [
  { label: 'reset() again — 2 runs with week-1 exist, runLimit is 2', act: (rm) => rm.reset(), expectError: 'RUN_LIMIT_REACHED' },
];
const world = (id: string, name: string) => ({
  id,
  name,
  account: 'acme',
  project: 'sim',
  group: 'g1',
  users: [{ userId: 'u1', userName: 'alice' }],
});

function walks(emulator: Emulator, resetRunId: () => string): Walk[] {
  return [
    { name: 'reuse-never', about: 'a new run on every getRun and reset; nothing is remembered' },
    {
      name: 'reuse-per-session',
      about: 'remember the run in the session store; reuse it until reset (the default strategy)',
      extra: ({ manager, lastReset }) => [
        {
          label: 'page reload: a NEW RunManager over the same session store, getRun()',
          act: () => manager().getRun(),
          check: (run) => ((run as Run).id === lastReset()?.id ? undefined : 'the reload did not get the reset run back'),
        },
      ],
    },
    { name: 'reuse-across-sessions', about: "the user's newest run of this model (queried on the server), else a new one" },
    {
      name: 'reuse-last-initialized',
      about: 'the newest run flagged isInitComplete; a new run gets the init operations, then the flag',
      options: () => ({ initOperation: INIT_OPS }),
    },
    {
      name: 'reuse-by-tracking-key',
      about: 'newest run with scope.trackingKey; new runs are counted against runLimit',
      options: () => ({ settings: { trackingKey: 'week-1', runLimit: 2 } }),
      extra: resetAgainHitsLimit,
    },
    {
      name: 'multiplayer',
      about: "the current run of the user's world (the World API creates it on first use)",
      setup: () => (emulator.addWorld(world('w1', 'Team 1')), 'emulator.addWorld(w1) with alice as member'),
    },
    {
      name: 'reuse-by-tracking-key-multiplayer',
      about: "the world's current run, stamped with a tracking key; reset is run-limited per world",
      options: () => ({ settings: { trackingKey: 'week-1', runLimit: 2 } }),
      setup: () => (emulator.addWorld(world('w2', 'Team 2')), "emulator.addWorld(w2), now alice's newest world"),
      extra: resetAgainHitsLimit,
    },
    {
      name: 'use-specific-run',
      about: 'always the run with the given id (here: the one reuse-per-session reset to); reset is refused',
      options: () => ({ runId: resetRunId() }),
      resetError: 'RESET_NOT_SUPPORTED',
    },
    ...(v3
      ? [
          {
            name: 'multiplayer (self-assign)',
            strategy: 'multiplayer',
            about: 'carol is in no world: strategyOptions.selfAssign puts her in one (v3 only), then joins its run',
            session: userSession('u3', 'carol'),
            options: () => ({ selfAssign: { objective: 'MINIMUM' } }),
          },
        ]
      : []),
    { name: 'none', about: 'resolve no run at all: getRun hands back the RunService; no requests' },
    {
      name: 'conditional-creation',
      about: `reload the remembered run; replace it when condition(run) says so (here: older than ${OLD_AFTER_MS} ms)`,
      options: () => ({ condition: (run: Run) => Date.now() - Date.parse(run.created ?? '') > OLD_AFTER_MS }),
      extra: () => [
        {
          label: `getRun() after ${OLD_AFTER_MS} ms — the run is now too old`,
          act: async (rm) => (await sleep(OLD_AFTER_MS + 20), rm.getRun()),
          check: (run) => ((run as Run).freshlyCreated ? undefined : 'an old run should have been replaced'),
        },
      ],
    },
    { name: 'team-sandbox', about: 'custom { getRun, reset } strategy (strategies.register): one shared run per group' },
  ];
}

// Request counts of the original Epicenter.js library (N = 2 init ops; conditional-creation, which its
// count table lacks, counted from what it does: load the cached run, create when the condition holds).
const ORIGINAL_V2: Record<string, [string, string, string]> = {
  'reuse-never': ['1', '1–2', '1'],
  'reuse-per-session': ['1', '1', '1'],
  'reuse-across-sessions': ['2', '1', '1'],
  'reuse-last-initialized': ['5', '1', '4'],
  'reuse-by-tracking-key': ['2', '1', '2'],
  multiplayer: ['3', '3', '4'],
  'reuse-by-tracking-key-multiplayer': ['3–4', '3', '6–7'],
  'use-specific-run': ['1', '1', 'throws'],
  none: ['0', '0', '0'],
  'conditional-creation': ['1', '1', '1'],
  'team-sandbox': ['–', '–', '–'],
};
// The official v3 client (epicenter-libs getWithStrategy) has two strategies and no reset; the rest
// are "Invalid run strategy" or missing.
const OFFICIAL_V3: Record<string, [string, string, string]> = {
  'reuse-never': ['1', '1', 'none'],
  'reuse-across-sessions': ['2', '1', 'none'],
};
const ORIGINAL = v3 ? OFFICIAL_V3 : ORIGINAL_V2;

async function main(): Promise<void> {
  const emulator = await startEmulator({ port: 0, variables: { price: 42 } });
  const managers: RunManager[] = [];
  const counts = new Map<string, Partial<Record<Kind, string>>>();
  try {
    const baseURL = v3 ? emulator.v3BaseURL : emulator.baseURL;
    say(`${bold('run-lifecycle demo')} — Epicenter ${v3 ? 'v3' : 'v2'} Run API emulator at ${cyan(baseURL)}`);
    say(dim('user alice (u1) in group g1, model acme/sim/model.py; new runs start with variables {price: 42};'));
    say(dim('one server for the whole demo, a fresh session store per strategy; run ids shortened to …last 6'));
    const alice = userSession('u1', 'alice');
    let perSessionReset: Run | undefined;

    for (const walk of walks(emulator, () => perSessionReset?.id ?? '')) {
      const store = createMemorySessionStore(); // a fresh "browser" per strategy
      const manager = () => {
        const options: RunManagerOptions = {
          run: { account: 'acme', project: 'sim', model: 'model.py', baseURL, ...(v3 ? { apiVersion: 3 as const } : {}) },
          strategy: walk.strategy ?? walk.name,
          session: walk.session ?? alice,
          sessionStore: store,
          inspect: observe,
          timeout: 5_000, // a demo should fail fast, not wait out the 15 s default
          ...(walk.options ? { strategyOptions: walk.options() } : {}),
        };
        const rm = new RunManager(options);
        managers.push(rm);
        return rm;
      };
      walking = walk.name;
      say();
      say(`${bold(cyan(`━━ ${walk.name}`))}  ${walk.about}`);
      if (walk.setup) say(`   ${dim(`setup: ${walk.setup()}`)}`);
      const rm = manager();
      let lastReset: Run | undefined;
      const steps: Step[] = [
        { label: 'getRun()', kind: 'first', act: (m) => m.getRun() },
        { label: "getRun(['price'])", kind: 'steady', act: (m) => m.getRun(['price']) },
        { label: 'reset()', kind: 'reset', act: (m) => m.reset(), ...(walk.resetError ? { expectError: walk.resetError } : {}) },
        ...(walk.extra?.({ manager, lastReset: () => lastReset }) ?? []),
      ];

      for (const step of steps) {
        emulator.clearLog();
        paths = new Map();
        let result: unknown;
        let failure: RunManagerError | undefined;
        try {
          result = await step.act(rm);
        } catch (error) {
          if (!(error instanceof RunManagerError)) throw error;
          failure = error;
        }
        const requests = await settledLog(emulator);
        if (failure && failure.type !== step.expectError)
          throw new Error(`${walk.name} ${step.label}: ${failure.type}: ${failure.message}`);
        if (!failure && step.expectError) throw new Error(`${walk.name} ${step.label}: expected ${step.expectError}, got a result`);
        const problem = failure ? undefined : step.check?.(result);
        if (problem) throw new Error(`${walk.name} ${step.label}: ${problem}`);
        if (step.kind === 'reset' && !failure) lastReset = result as Run;

        say(`   ${bold(step.label)}`);
        const path = [...paths.values()].map((p) => p.join(' → ')).join('  |  ');
        say(`      ${dim('path    ')} ${path || dim('(no strategy machine ran)')}`);
        const shown = requests.length ? requests.map(describeRequest) : [dim('(none)')];
        shown.forEach((line, i) => say(`      ${dim(i === 0 ? 'requests' : '        ')} ${line}`));
        say(`      ${dim('result  ')} ${failure ? yellow(`rejected ${failure.type}: ${failure.message}`) : describeResult(result)}`);

        if (step.kind) {
          // Summary counts leave out the variables GET that getRun(['price']) adds (the original sends it too).
          const strategyRequests = requests.filter((r) => !r.path.includes('/variables/') && !r.path.includes('/run/variable/')).length;
          const earlierRun = (result as Run | undefined)?.id !== undefined && seen((result as Run).id).by !== walk.name;
          const mark = failure ? '✗' : step.kind === 'first' && earlierRun ? '*' : '';
          counts.set(walk.name, { ...counts.get(walk.name), [step.kind]: `${strategyRequests}${mark}` });
        }
      }
      if (walk.name === 'reuse-per-session') perSessionReset = lastReset;
    }

    // ── Summary ──
    const row = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    const widths = [34, 16, 16, 16];
    console.log();
    console.log(
      bold(
        v3
          ? 'Requests per step on Epicenter v3: this library / the official v3 client (epicenter-libs getWithStrategy)'
          : 'Requests per step: this library / the original Epicenter.js',
      ),
    );
    console.log(bold(row(['strategy', 'first getRun', 'steady getRun', 'reset'], widths)));
    for (const [name, ours] of counts) {
      const original = ORIGINAL[name] ?? (v3 ? ['–', '–', '–'] : ['?', '?', '?']);
      const cells = (['first', 'steady', 'reset'] as const).map((kind, i) => `${ours[kind] ?? '?'} / ${original[i]}`);
      console.log(row([name, ...cells], widths));
    }
    console.log(dim(`✗ rejected with a typed error   * got a run made earlier in the demo, so nothing was created`));
    console.log(
      dim(
        v3
          ? `Counts leave out the POST …/run/variable/ that getRun(['price']) adds (a v3 run load carries no variables).`
          : `Counts leave out a separate GET …/variables/ (needed only after a create or by a custom strategy: loads and queries carry include=). Original: a–b depends on cookies/limits;`,
      ),
    );
    console.log(
      dim(
        v3
          ? `Official v3 client: "none" = it has no reset; "–" = it has no such strategy (reuse-by-tracking-key and multiplayer throw "Invalid run strategy").`
          : `"throws" = a synchronous throw; conditional-creation: counted from what the original does; team-sandbox is this demo's own.`,
      ),
    );
    console.log(
      green(`all ${counts.size} strategies walked through (${seenRuns.size} runs seen, ${emulator.runs().length} on the emulator)`),
    );
  } finally {
    for (const rm of managers) rm.stop();
    await emulator.close();
    await closeTrace();
  }
}

// Help and usage errors were printed above; only a run starts the emulator.
if (cli.kind === 'run') {
  main().catch((error: unknown) => {
    console.error(red(`demo failed: ${error instanceof Error ? error.message : String(error)}`));
    process.exitCode = 1;
  });
}
