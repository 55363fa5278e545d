/**
 * What a machine definition contains (its states and transitions, found by walking `machine.root`)
 * and how much of it a set of runs reached.
 *
 * The coverage rule for transient (`always`-only) states: they are never a stable snapshot, so a
 * state counts as covered when it is active in any microstep snapshot or any stable snapshot of the
 * machine, or when it is the source of a transition the machine took (an initial transient state is
 * left in the same microstep it is entered, so it only shows as the source of its `always`
 * transition). A transition counts as covered when it appears in the `_transitions` of an
 * `@xstate.microstep` inspection event of the machine's own actor.
 */
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, AnyTransitionDefinition, InspectionEvent } from 'xstate';

/**
 * One transition of a machine definition: `(source state, event type or eventless, guard, targets)`.
 *
 * @example
 * ```ts
 * const t: MachineTransition = {
 *   key: 'reuse-per-session.loadingRun|xstate.error.actor.loadRun|0',
 *   source: 'loadingRun', event: 'xstate.error.actor.loadRun', guard: 'isRunGone', targets: ['creating'],
 *   label: 'loadingRun --xstate.error.actor.loadRun [isRunGone]--> creating',
 * };
 * ```
 */
export interface MachineTransition {
  /** Stable identity: source node id, event type (`''` for eventless), position among that event's transitions. */
  key: string;
  /** The source state as a dotted path below the root (`working.locked.resolving`). */
  source: string;
  /** The event type; `''` for an eventless (`always`) transition. */
  event: string;
  /** The guard's name (`isReset`), `inline` for an anonymous guard, or `null` when unguarded. */
  guard: string | null;
  /** Target states as dotted paths; empty for a targetless transition (actions only). */
  targets: string[];
  /** A readable one-liner, e.g. `checkingSession --always [isReset]--> creating`. */
  label: string;
}

/**
 * Coverage of one kind of item (states or transitions).
 *
 * @example
 * ```ts
 * const states: CoverageFigure = { covered: 5, total: 6, percent: 83.33, uncovered: ['compensating'] };
 * ```
 */
export interface CoverageFigure {
  covered: number;
  total: number;
  /** `covered / total` in percent, two decimals; `100` when there is nothing to cover. */
  percent: number;
  /** What no run reached: state paths, or transition labels. */
  uncovered: string[];
}

/**
 * State and transition coverage of a machine.
 *
 * @example
 * ```ts
 * const { states, transitions }: CoverageReport = model.coverage;
 * console.log(`${states.percent}% states, ${transitions.percent}% transitions`);
 * ```
 */
export interface CoverageReport {
  states: CoverageFigure;
  transitions: CoverageFigure;
}

/**
 * Collects covered states and transitions (by key) from snapshots and microsteps.
 *
 * @example
 * ```ts
 * const tracker = createCoverageTracker(machine);
 * createActor(machine, { inspect: (event) => tracker.observe(event, actorRef) });
 * tracker.report();
 * ```
 */
export interface CoverageTracker {
  /** Marks the states active in a snapshot (stable or microstep) as covered. */
  addSnapshot(snapshot: AnyMachineSnapshot): void;
  /** Marks transitions (and their sources) as taken. */
  addTransitions(transitions: readonly AnyTransitionDefinition[]): void;
  /** Marks state ids and transition keys as covered (e.g. from planned macrosteps). */
  addCovered(items: { states?: Iterable<string>; transitions?: Iterable<string> }): void;
  /** Takes coverage from an inspection event when it belongs to `actorRef` (children are ignored). */
  observe(event: InspectionEvent, actorRef: unknown): void;
  /** Adds everything another tracker (of the same machine) has seen. */
  merge(other: CoverageTracker): void;
  /** Covered state ids. */
  readonly stateIds: ReadonlySet<string>;
  /** Covered transition keys. */
  readonly transitionKeys: ReadonlySet<string>;
  report(): CoverageReport;
}

function relativePath(node: AnyStateNode): string {
  return node.path.join('.');
}

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  if (typeof guard === 'function') return guard.name || 'inline';
  return 'inline';
}

function childNodes(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states ?? {}) as AnyStateNode[];
}

/**
 * Every state node below the root, depth first in document order.
 *
 * @example
 * ```ts
 * machineStates(reusePerSessionMachine).map((node) => node.path.join('.'));
 * // ['checkingSession', 'loadingRun', 'creating', 'ready', 'error']
 * ```
 */
export function machineStates(machine: AnyStateMachine): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    for (const child of childNodes(node)) {
      nodes.push(child);
      walk(child);
    }
  };
  walk(machine.root);
  return nodes;
}

/**
 * The key identifying a transition definition: its source node id, its event type (`''` when
 * eventless) and its position among the source's transitions for that event. Keys are the same for
 * a machine and its `.provide()`d copies.
 *
 * @example
 * ```ts
 * transitionKey(snapshot.machine.root.states.checkingSession.always[0]); // 'reuse-never.checkingSession||0'
 * ```
 */
export function transitionKey(transition: AnyTransitionDefinition): string {
  const source = transition.source as AnyStateNode;
  const eventType = transition.eventType ?? '';
  const list: readonly AnyTransitionDefinition[] = eventType === '' ? (source.always ?? []) : (source.transitions.get(eventType) ?? []);
  return `${source.id}|${eventType}|${Math.max(0, list.indexOf(transition))}`;
}

function describeTransition(transition: AnyTransitionDefinition): MachineTransition {
  const source = relativePath(transition.source as AnyStateNode);
  const event = transition.eventType ?? '';
  const guard = guardName(transition.guard);
  const targets = (transition.target ?? []).map((node: AnyStateNode) => relativePath(node));
  const label = `${source} --${event === '' ? 'always' : event}${guard ? ` [${guard}]` : ''}--> ${targets.length > 0 ? targets.join(', ') : '(stays)'}`;
  return { key: transitionKey(transition), source, event, guard, targets, label };
}

/**
 * Every transition of a machine definition (root included): event transitions (invoke `onDone` /
 * `onError`, `on`, `after`) and eventless (`always`) ones, each guarded alternative on its own.
 *
 * @example
 * ```ts
 * machineTransitions(reuseNeverMachine).map((t) => t.label);
 * // ['checkingSession --always--> creating', 'creating --xstate.done.actor.createRun--> ready', …]
 * ```
 */
export function machineTransitions(machine: AnyStateMachine): MachineTransition[] {
  const transitions: MachineTransition[] = [];
  const walk = (node: AnyStateNode) => {
    for (const list of node.transitions.values()) {
      for (const transition of list) transitions.push(describeTransition(transition));
    }
    for (const transition of node.always ?? []) transitions.push(describeTransition(transition));
    for (const child of childNodes(node)) walk(child);
  };
  walk(machine.root);
  return transitions;
}

function figure(all: Array<{ id: string; label: string }>, covered: ReadonlySet<string>): CoverageFigure {
  const uncovered = all.filter((item) => !covered.has(item.id)).map((item) => item.label);
  const done = all.length - uncovered.length;
  const percent = all.length === 0 ? 100 : Math.round((done / all.length) * 10_000) / 100;
  return { covered: done, total: all.length, percent, uncovered };
}

function isSnapshotOf(value: unknown): value is AnyMachineSnapshot {
  return value !== null && typeof value === 'object' && Array.isArray((value as { _nodes?: unknown })._nodes);
}

/**
 * A coverage tracker for `machine` (see the module comment for the transient-state rule).
 *
 * @example
 * ```ts
 * const tracker = createCoverageTracker(machine);
 * const actor = createActor(machine, { input, inspect: (event) => tracker.observe(event, actor) });
 * actor.start();
 * // …
 * console.log(tracker.report().transitions.uncovered);
 * ```
 */
export function createCoverageTracker(machine: AnyStateMachine): CoverageTracker {
  const stateIds = new Set<string>();
  const transitionKeys = new Set<string>();
  const rootId = machine.root.id;

  const tracker: CoverageTracker = {
    stateIds,
    transitionKeys,
    addSnapshot(snapshot) {
      for (const node of snapshot._nodes as AnyStateNode[]) if (node.id !== rootId) stateIds.add(node.id);
    },
    addTransitions(transitions) {
      for (const transition of transitions) {
        transitionKeys.add(transitionKey(transition));
        const source = transition.source as AnyStateNode;
        if (source.id !== rootId) stateIds.add(source.id);
      }
    },
    addCovered(items) {
      for (const id of items.states ?? []) stateIds.add(id);
      for (const key of items.transitions ?? []) transitionKeys.add(key);
    },
    observe(event, actorRef) {
      if (event.actorRef !== actorRef) return;
      if (event.type === '@xstate.microstep') {
        if (isSnapshotOf(event.snapshot)) tracker.addSnapshot(event.snapshot);
        tracker.addTransitions(event._transitions);
      } else if (event.type === '@xstate.snapshot' && isSnapshotOf(event.snapshot)) {
        tracker.addSnapshot(event.snapshot);
      }
    },
    merge(other) {
      for (const id of other.stateIds) stateIds.add(id);
      for (const key of other.transitionKeys) transitionKeys.add(key);
    },
    report() {
      return {
        states: figure(
          machineStates(machine).map((node) => ({ id: node.id, label: relativePath(node) })),
          stateIds,
        ),
        transitions: figure(
          machineTransitions(machine).map((transition) => ({ id: transition.key, label: transition.label })),
          transitionKeys,
        ),
      };
    },
  };
  return tracker;
}
