/**
 * A machine's states and transitions (walked from `machine.root`) and how much of them runs reached.
 *
 * A transient (`always`-only) state is never a stable snapshot, so a state counts as covered when it
 * is active in any microstep or stable snapshot, or is the source of a taken transition (an initial
 * transient state shows only that way). A transition counts when it is in the `_transitions` of an
 * `@xstate.microstep` event of the machine's own actor.
 */
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, AnyTransitionDefinition, InspectionEvent } from 'xstate';

/** One transition of a machine definition: source state, event type (or eventless), guard, targets. */
export interface MachineTransition {
  /** Stable identity: source node id, event type (`''` for eventless), position among that event's transitions. */
  key: string;
  /** The source state as a dotted path below the root (`working.locked.resolving`). */
  source: string;
  /** `''` for an eventless (`always`) transition. */
  event: string;
  /** The guard's name, `inline` for an anonymous guard, `null` when unguarded. */
  guard: string | null;
  /** Dotted paths; empty for a targetless transition. */
  targets: string[];
  /** E.g. `checkingSession --always [isReset]--> creating`. */
  label: string;
}

/** Coverage of states or of transitions. */
export interface CoverageFigure {
  /** How many were reached. */
  covered: number;
  /** How many there are. */
  total: number;
  /** Two decimals; `100` when there is nothing to cover. */
  percent: number;
  /** State paths or transition labels no run reached. */
  uncovered: string[];
}

/** State and transition coverage of a machine. */
export interface CoverageReport {
  /** State coverage. */
  states: CoverageFigure;
  /** Transition coverage. */
  transitions: CoverageFigure;
}

/** Collects covered states and transitions (by key) from snapshots and microsteps. */
export interface CoverageTracker {
  /** Marks the snapshot's active states as covered. */
  addSnapshot(snapshot: AnyMachineSnapshot): void;
  /** Marks transitions (and their sources) as taken. */
  addTransitions(transitions: readonly AnyTransitionDefinition[]): void;
  /** Marks state ids and transition keys as covered (e.g. from planned macrosteps). */
  addCovered(items: { states?: Iterable<string>; transitions?: Iterable<string> }): void;
  /** Takes coverage from an inspection event of `actorRef` itself (children are ignored). */
  observe(event: InspectionEvent, actorRef: unknown): void;
  /** Adds what another tracker of the same machine has seen. */
  merge(other: CoverageTracker): void;
  /** Ids of the covered states. */
  readonly stateIds: ReadonlySet<string>;
  /** Keys of the covered transitions. */
  readonly transitionKeys: ReadonlySet<string>;
  /** What is covered and what is not. */
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

/** Every state node below the root, depth first in document order. */
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
 * A transition's key: source node id, event type (`''` when eventless) and position among the
 * source's transitions for that event, so keys match across `.provide()`d copies of a machine.
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

/** Every transition (root included), `on`, invoke, `after` and `always`, each guarded alternative on its own. */
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

/** A coverage tracker for `machine` (see the module comment for the transient-state rule). */
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
