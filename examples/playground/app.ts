/**
 * The playground page: one RunManager at a time (Epicenter API version × strategy × user), built
 * through the public API, with its statecharts drawn live from inspection events, the last call's
 * result, and the emulator's request log and fault controls beside it.
 *
 * Run it with `npm run playground` (serve.ts).
 */
import type { InspectionEvent } from 'xstate';
import {
  createDefaultSessionStore,
  RunManager,
  RunManagerError,
  RunService,
  STRATEGY,
  STRATEGY_ALIASES,
  type Run,
  type StrategyName,
} from 'run-lifecycle';
import { runManagerMachine } from 'run-lifecycle/strategies';
import { $, el } from './dom.js';
import { startEmulatorPanel } from './emulator-panel.js';
import { PRESETS, RUN_TARGET, SELF_ASSIGN, SELF_ASSIGN_STRATEGIES, USERS, type ApiVersion } from './presets.js';
import { createChart, type Chart } from './statechart.js';

/** What the server tells the page (`/config.json`). */
interface PlaygroundConfig {
  /** The emulator's API root, e.g. `http://127.0.0.1:8080/v2/`. */
  baseURL: string;
  /** The emulator's Epicenter v3 root, e.g. `http://127.0.0.1:8080/api/v3/` (same store as v2). */
  v3BaseURL: string;
  /** The emulator's control API, e.g. `http://127.0.0.1:8080/_emulator/`. */
  controlURL: string;
  /** Dev token per user id. */
  tokens: Record<string, string>;
  /** Dev token per user id for v3: also names the group's key (claim `group_key`). */
  v3Tokens: Record<string, string>;
}

const SESSION_KEY = `epicenter-scenario-${RUN_TARGET.account}-${RUN_TARGET.project}-${RUN_TARGET.model}`;
const STRATEGIES = Object.values(STRATEGY) as StrategyName[];

const config = (await (await fetch('/config.json')).json()) as PlaygroundConfig;
const emulatorPanel = startEmulatorPanel(config.controlURL);

// ── Statecharts ──────────────────────────────────────────────────────────────────────────────────
const svgCache = new Map<string, Promise<string | undefined>>();
function generatedSvg(machineId: string): Promise<string | undefined> {
  if (!svgCache.has(machineId)) {
    svgCache.set(
      machineId,
      fetch(`/visualizations/${encodeURIComponent(machineId)}.svg`)
        .then((response) => (response.ok ? response.text() : undefined))
        .catch(() => undefined),
    );
  }
  return svgCache.get(machineId)!;
}

let strategyChart: Chart | undefined;
// Set once the page is ready; the inspector handler below reads it before then.
// eslint-disable-next-line prefer-const
let managerChart: Chart | undefined;
const chartSessions = new Map<Chart, string>();

async function showStrategyChart(shown: StrategyName): Promise<void> {
  const machine = RunManager.strategies.byName(shown)!.machine;
  const svg = await generatedSvg(machine.id);
  if (shown !== strategy) return; // another strategy was picked meanwhile
  strategyChart = createChart(machine, svg);
  $('strategy-chart').replaceChildren(strategyChart.element);
  $('chart-machine').textContent = machine.id;
  $('chart-source').textContent = strategyChart.mode === 'svg' ? `visualizations/${machine.id}.svg` : 'outline of the machine definition';
  renderTrail();
}

function renderTrail(): void {
  const trail = strategyChart?.trail ?? [];
  $('trail').textContent = trail.length ? `Last call: ${trail.join(' → ')}` : '';
}

/**
 * Inspection events of the manager's actors drive the charts: the root actor is the run-manager
 * machine, its child `strategy` the strategy machine. Only plain data of the events is read
 * (`actorRef.id`, `sessionId`, `snapshot.value`, the ids of `_transitions`' states), which the
 * manager's sanitized inspection events keep.
 */
function inspect(event: InspectionEvent): void {
  if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.microstep') return;
  const actor = event.actorRef as { id?: string; sessionId: string };
  const chart = actor.sessionId === event.rootId ? managerChart : actor.id === 'strategy' ? strategyChart : undefined;
  if (!chart) return;
  // A new strategy actor per resolution: its marks start afresh.
  if (chartSessions.get(chart) !== actor.sessionId) {
    if (chart === strategyChart) chart.clear();
    chartSessions.set(chart, actor.sessionId);
  }
  if (event.type === '@xstate.microstep') {
    // Transient states (`always` transitions) show up only here.
    const transitions = event._transitions as ReadonlyArray<{ source?: { id: string }; target?: ReadonlyArray<{ id: string }> }>;
    chart.markVisited(
      transitions.flatMap((transition) => [transition.source, ...(transition.target ?? [])]).flatMap((node) => (node ? [node.id] : [])),
    );
  }
  chart.showValue((event.snapshot as { value?: unknown }).value);
  revealActive(chart.element.parentElement);
  if (chart === strategyChart) renderTrail();
}

/** At natural size a big diagram scrolls: keep its active state in view. */
function revealActive(holder: HTMLElement | null): void {
  if (!holder || holder.classList.contains('fit')) return;
  const active = [...holder.querySelectorAll('.is-active')].at(-1);
  if (!active) return;
  const box = active.getBoundingClientRect();
  const frame = holder.getBoundingClientRect();
  holder.scrollBy({
    left: box.left - frame.left - (frame.width - box.width) / 2,
    top: box.top - frame.top - (frame.height - box.height) / 2,
  });
}

// ── The manager ──────────────────────────────────────────────────────────────────────────────────
let apiVersion: ApiVersion = 2;
let strategy: StrategyName = 'reuse-per-session';
let userId = USERS[0]!.userId;
/** The selfAssign box: applies on v3 to the strategies that take `selfAssign`. */
let selfAssignChecked = false;
let manager: { key: string; rm: RunManager; unsubscribe(): void } | undefined;

const offersSelfAssign = () => apiVersion === 3 && SELF_ASSIGN_STRATEGIES.includes(strategy);

/** The preset's strategyOptions, plus `selfAssign` when it is offered and ticked. */
function strategyOptions(): Record<string, unknown> | undefined {
  const preset = PRESETS[strategy].strategyOptions;
  if (offersSelfAssign() && selfAssignChecked) return { ...preset, selfAssign: SELF_ASSIGN };
  return preset;
}

/**
 * The user's session: on v3 `userId` is the user's key, the session names the group's key too, and
 * the token carries it.
 */
function sessionOf(user: (typeof USERS)[number]) {
  const { userId: id, userName, groupName, groupKey } = user;
  return apiVersion === 3
    ? { userId: id, userName, groupName, groupKey, auth_token: config.v3Tokens[id] }
    : { userId: id, userName, groupName, auth_token: config.tokens[id] };
}

function stopManager(): void {
  manager?.unsubscribe();
  manager?.rm.stop();
  manager = undefined;
}

function currentManager(): RunManager {
  const options = strategyOptions();
  const key = `v${apiVersion}|${strategy}|${userId}|${JSON.stringify(options?.selfAssign ?? null)}`;
  if (manager?.key === key) return manager.rm;
  stopManager();
  const user = USERS.find((candidate) => candidate.userId === userId)!;
  // Both versions keep the same session record (one key per account/project/model): run ids are
  // shared by the emulator's one store, so a run remembered on v2 is loaded on v3 and the other way.
  const rm = new RunManager({
    run: apiVersion === 3 ? { ...RUN_TARGET, apiVersion: 3, baseURL: config.v3BaseURL } : { ...RUN_TARGET, baseURL: config.baseURL },
    strategy,
    ...(options ? { strategyOptions: options } : {}),
    session: sessionOf(user),
    inspect,
  });
  const subscription = rm.actor.subscribe((snapshot) => {
    for (const tag of ['busy', 'ready', 'error'] as const) $(`tag-${tag}`).classList.toggle('on', snapshot.hasTag(tag));
    $('manager-state').textContent = statePath(snapshot.value);
  });
  manager = { key, rm, unsubscribe: () => subscription.unsubscribe() };
  return rm;
}

function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, inner]) => `${key}.${statePath(inner)}`)
      .join(', ');
  }
  return String(value);
}

// ── The result panel ─────────────────────────────────────────────────────────────────────────────
let calls = 0;

function showResult(
  call: string,
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown },
  ms: number,
  version: ApiVersion,
): void {
  const result = $('result');
  result.dataset.api = `v${version}`;
  delete result.dataset.runId;
  delete result.dataset.errorType;
  let badge: HTMLElement;
  const body: HTMLElement[] = [];

  if (!outcome.ok) {
    const error = outcome.error;
    const type = error instanceof RunManagerError ? error.type : 'Error';
    result.dataset.kind = 'error';
    result.dataset.errorType = type;
    badge = el('span', 'badge bad', 'rejected');
    body.push(el('p', 'error-type', type + (error instanceof RunManagerError && error.status ? ` · HTTP ${error.status}` : '')));
    body.push(el('p', 'error-message', error instanceof Error ? error.message : String(error)));
  } else if (outcome.value instanceof RunService || outcome.value === undefined) {
    result.dataset.kind = 'value';
    badge = el('span', 'badge', 'resolved');
    body.push(
      el(
        'p',
        undefined,
        outcome.value === undefined
          ? 'undefined: nothing to reset.'
          : 'No run: the strategy resolved the RunService itself (rm.run), as the original does.',
      ),
    );
  } else {
    const run = outcome.value as Run;
    result.dataset.kind = 'run';
    result.dataset.runId = run.id;
    badge = run.freshlyCreated ? el('span', 'badge new', 'created') : el('span', 'badge good', 'reused');
    body.push(el('p', 'run-id', `run ${run.id}`), el('pre', 'json', JSON.stringify(run, null, 2)));
  }
  const head = el('div', 'result-head');
  head.append(badge, el('code', undefined, call), el('span', 'muted', `${ms} ms`), el('span', 'api-tag', `Epicenter v${version}`));
  calls += 1;
  result.dataset.seq = String(calls);
  result.replaceChildren(head, ...body);
}

async function call(label: string, action: (rm: RunManager) => Promise<unknown>): Promise<void> {
  strategyChart?.clear();
  managerChart?.clear();
  renderTrail();
  const started = performance.now();
  const version = apiVersion;
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await action(currentManager()) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  showResult(label, outcome, Math.round(performance.now() - started), version);
  await emulatorPanel.refresh().catch(() => undefined);
}

// ── Controls ─────────────────────────────────────────────────────────────────────────────────────
const aliases = Object.entries(STRATEGY_ALIASES);
$<HTMLSelectElement>('strategy').replaceChildren(
  ...STRATEGIES.map((name) => {
    const alias = aliases.find(([, target]) => target === name)?.[0];
    return new Option(alias ? `${name} (${alias})` : name, name, name === strategy, name === strategy);
  }),
);

function describeStrategy(): void {
  const preset = PRESETS[strategy];
  $('strategy-summary').textContent = preset.summary;
  const note = $('strategy-v3-note');
  note.hidden = apiVersion !== 3 || preset.v3Note === undefined;
  note.textContent = note.hidden ? '' : preset.v3Note!;
  $('self-assign-field').hidden = !offersSelfAssign();
  const options = strategyOptions();
  const shown = preset.shownOptions ?? (options ? JSON.stringify(options) : undefined);
  $('strategy-options').textContent = shown ? `strategyOptions: ${shown}` : 'no strategyOptions';
}

/** Shows the chosen API version: the emulator root in the header and `data-api` on the body. */
function describeApi(): void {
  $('emulator-url').textContent = apiVersion === 3 ? config.v3BaseURL : config.baseURL;
  document.body.dataset.api = `v${apiVersion}`;
}

$('users').replaceChildren(
  ...USERS.map((user) => {
    const label = el('label', 'user');
    const input = Object.assign(document.createElement('input'), {
      type: 'radio',
      name: 'user',
      value: user.userId,
      checked: user.userId === userId,
    });
    input.addEventListener('change', () => {
      userId = user.userId;
      stopManager();
    });
    label.append(input, el('span', undefined, `${user.userId} · ${user.userName}`), el('small', undefined, user.note));
    return label;
  }),
);

// Switching the version stops the manager: the next call builds one for the other API.
for (const input of document.querySelectorAll<HTMLInputElement>('input[name="api"]')) {
  input.checked = Number(input.value) === apiVersion;
  input.addEventListener('change', () => {
    if (!input.checked) return;
    apiVersion = Number(input.value) as ApiVersion;
    stopManager();
    describeApi();
    describeStrategy();
  });
}
const selfAssignBox = $<HTMLInputElement>('self-assign');
selfAssignBox.checked = selfAssignChecked;
selfAssignBox.addEventListener('change', () => {
  selfAssignChecked = selfAssignBox.checked;
  stopManager();
  describeStrategy();
});

$<HTMLSelectElement>('strategy').addEventListener('change', (event) => {
  strategy = (event.target as HTMLSelectElement).value as StrategyName;
  stopManager();
  describeStrategy();
  void showStrategyChart(strategy);
});
const fit = $<HTMLInputElement>('fit-chart');
const applyFit = () => {
  for (const holder of [$('strategy-chart'), $('manager-chart')]) {
    holder.classList.toggle('fit', fit.checked);
    revealActive(holder);
  }
};
fit.addEventListener('change', applyFit);
applyFit();
$('get-run').addEventListener('click', () => void call('getRun()', (rm) => rm.getRun()));
$('get-run-price').addEventListener('click', () => void call("getRun(['price'])", (rm) => rm.getRun(['price'])));
$('reset').addEventListener('click', () => void call('reset()', (rm) => rm.reset()));
$('forget').addEventListener('click', () => {
  const button = $('forget');
  void createDefaultSessionStore()
    .del(SESSION_KEY)
    .then(() => {
      button.textContent = 'Forgotten: the next getRun() starts afresh';
      setTimeout(() => (button.textContent = "Forget this browser's session record"), 2000);
    });
});

describeApi();
describeStrategy();
managerChart = createChart(runManagerMachine, await generatedSvg(runManagerMachine.id));
$('manager-chart').replaceChildren(managerChart.element);
await showStrategyChart(strategy);
document.body.dataset.ready = 'true';
