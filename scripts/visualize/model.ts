/**
 * Walks an XState v5 machine definition (`machine.root` and its `StateNode`s) into a neutral graph
 * that the Mermaid and Graphviz renderers draw. Pure: no I/O, and the output follows the order of
 * the machine definition, so it is deterministic.
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** The kind of a transition, which decides how it is labelled and drawn. */
export type TransitionKind = 'event' | 'always' | 'done' | 'error' | 'after' | 'stateDone';

/** One state of the graph (the machine root is not one: it is the graph itself). */
export interface GraphState {
  /** The XState state node id, e.g. `run-manager.working.locked`; unique in the machine. */
  id: string;
  /** The state's key in its parent, e.g. `locked`. */
  key: string;
  /** Keys from the root down to this state. */
  path: string[];
  /** Id of the parent state, or `null` for a top-level state. */
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Id of the initial child of a compound state. */
  initial: string | null;
  /** Child state ids, in definition order. */
  children: string[];
  tags: string[];
  /** Invoked actors: `id` is the child's id, `src` the actor name in `setup({ actors })`. */
  invokes: Array<{ id: string; src: string }>;
  /** Named entry actions (inline anonymous actions are left out). */
  entry: string[];
  /** Named exit actions. */
  exit: string[];
  /** A decision state: only eventless transitions, one of them unguarded, nothing invoked. */
  transient: boolean;
}

/** One transition (a transition with several targets becomes one per target). */
export interface GraphTransition {
  /** Id of the state the transition is defined on. */
  source: string;
  /** Id of the target state, or `null` for a targetless (internal) transition. */
  target: string | null;
  kind: TransitionKind;
  /** The event type as XState names it (`''` for eventless transitions). */
  event: string;
  /** The event for readers: `done: fetchLatest`, `error: createRun`, `always`, `after 500ms`, `GET_RUN`. */
  eventLabel: string;
  /** The guard's name (`isReset`, `not(isReset)`), or `null` when unguarded. */
  guard: string | null;
  /** An unguarded transition after guarded ones for the same event: taken when no guard passes. */
  otherwise: boolean;
  /** Named actions of the transition (inline anonymous ones are left out). */
  actions: string[];
  /** `eventLabel` plus `[guard]` (or `[else]`). */
  label: string;
}

/** A machine as a graph of states and transitions. */
export interface MachineGraph {
  /** The machine id (`machine.id`), used for file names. */
  id: string;
  /** Id of the machine's initial state. */
  initial: string | null;
  /** Actors the root invokes: they live as long as the machine runs. */
  invokes: Array<{ id: string; src: string }>;
  /** Every state below the root, depth-first in definition order. */
  states: GraphState[];
  /** Every transition, by source state (definition order), then in definition order. */
  transitions: GraphTransition[];
}

const DONE_ACTOR = 'xstate.done.actor.';
const ERROR_ACTOR = 'xstate.error.actor.';
const DONE_STATE = 'xstate.done.state.';
const AFTER = 'xstate.after.';

interface HigherOrderGuard {
  (...args: never[]): unknown;
  guards?: unknown[];
  stateValue?: unknown;
}

/**
 * The readable name of a guard: its `type` (or string), `not(x)` / `and(x, y)` / `or(x, y)` for
 * XState's higher-order guards, `stateIn(…)`, a function's name, or `inline` for an anonymous one.
 *
 * @example
 * ```ts
 * guardName('isReset');                          // 'isReset'
 * guardName({ type: 'hasNoUsableRun', params }); // 'hasNoUsableRun'
 * guardName(not('isReset'));                     // 'not(isReset)'
 * ```
 */
export function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const fn = guard as HigherOrderGuard;
    if (Array.isArray(fn.guards) && (fn.name === 'not' || fn.name === 'and' || fn.name === 'or')) {
      return `${fn.name}(${fn.guards.map((inner) => guardName(inner) ?? 'inline').join(', ')})`;
    }
    if (fn.name === 'stateIn' && fn.stateValue !== undefined) return `stateIn(${JSON.stringify(fn.stateValue)})`;
    return fn.name && fn.name !== 'guard' ? fn.name : 'inline';
  }
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'inline';
}

/**
 * Names of actions as they should be shown: string actions and `{ type }` objects, leaving out
 * XState's built-ins (`assign`, `raise`, …) and anonymous inline functions.
 */
export function actionNames(actions: readonly unknown[] | undefined): string[] {
  const names: string[] = [];
  for (const action of actions ?? []) {
    let name: string | undefined;
    if (typeof action === 'string') name = action;
    else if (action && typeof action === 'object' && typeof (action as { type?: unknown }).type === 'string') {
      name = (action as { type: string }).type;
    }
    if (name && !name.startsWith('xstate.')) names.push(name);
  }
  return names;
}

/**
 * Shortens XState's internal event types for readers.
 *
 * @example
 * ```ts
 * eventLabel('xstate.done.actor.fetchLatest');  // 'done: fetchLatest'
 * eventLabel('xstate.error.actor.createRun');   // 'error: createRun'
 * eventLabel('');                               // 'always'
 * ```
 */
export function eventLabel(event: string, machine?: AnyStateMachine): { kind: TransitionKind; label: string } {
  if (event === '') return { kind: 'always', label: 'always' };
  if (event.startsWith(DONE_ACTOR)) return { kind: 'done', label: `done: ${event.slice(DONE_ACTOR.length)}` };
  if (event.startsWith(ERROR_ACTOR)) return { kind: 'error', label: `error: ${event.slice(ERROR_ACTOR.length)}` };
  if (event.startsWith(DONE_STATE)) {
    const id = event.slice(DONE_STATE.length);
    return { kind: 'stateDone', label: `done: ${keyOfId(id, machine)}` };
  }
  if (event.startsWith(AFTER)) {
    // `xstate.after.<delay>.<state id>`: the delay is a number of ms or a named delay.
    const rest = event.slice(AFTER.length);
    const delay = rest.slice(0, rest.indexOf('.') === -1 ? undefined : rest.indexOf('.'));
    return { kind: 'after', label: /^\d+$/.test(delay) ? `after ${delay}ms` : `after ${delay}` };
  }
  return { kind: 'event', label: event };
}

function keyOfId(id: string, machine: AnyStateMachine | undefined): string {
  if (machine) {
    try {
      return machine.getStateNodeById(id).key;
    } catch {
      // Not a state id of this machine: show it as is.
    }
  }
  return id;
}

function srcName(src: unknown): string {
  if (typeof src === 'string') return src;
  const logic = src as { id?: unknown; config?: { id?: unknown } } | null;
  if (logic && typeof logic.id === 'string') return logic.id;
  if (logic && typeof logic.config?.id === 'string') return logic.config.id;
  return 'inline actor';
}

function isTransient(node: AnyStateNode): boolean {
  const always = node.always ?? [];
  return (
    always.length > 0 &&
    always.some((transition) => transition.guard === undefined) &&
    node.transitions.size === 0 &&
    node.invoke.length === 0 &&
    node.type === 'atomic'
  );
}

function childrenOf(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

/**
 * The graph of a machine: every state node below the root (depth-first, definition order) and
 * every transition — `on` events, delayed, invoke `onDone`/`onError`, eventless `always` — with its
 * guard's name. Transitions defined on the root itself (from any state) have the machine id as source.
 *
 * @example
 * ```ts
 * const graph = machineToGraph(reuseAcrossSessionsMachine);
 * graph.transitions.find((t) => t.guard === 'hasNoUsableRun')?.label; // 'done: fetchLatest [hasNoUsableRun]'
 * ```
 */
export function machineToGraph(machine: AnyStateMachine): MachineGraph {
  const states: GraphState[] = [];
  const transitions: GraphTransition[] = [];
  const root = machine.root as AnyStateNode;

  const addTransitions = (node: AnyStateNode, source: string) => {
    const groups: Array<[string, readonly AnyTransitionDefinition[]]> = [];
    for (const [event, list] of node.transitions) groups.push([event, list]);
    if (node.always && node.always.length > 0) groups.push(['', node.always]);
    for (const [event, list] of groups) {
      const { kind, label: shortEvent } = eventLabel(event, machine);
      let guardedBefore = false;
      for (const transition of list) {
        const guard = guardName(transition.guard);
        const otherwise = guard === null && guardedBefore;
        if (guard !== null) guardedBefore = true;
        const label = guard !== null ? `${shortEvent} [${guard}]` : otherwise ? `${shortEvent} [else]` : shortEvent;
        // A transition to the machine itself re-enters it: drawn to its initial state.
        const targets =
          transition.target && transition.target.length > 0
            ? transition.target.map((t) => (t === root ? (root.initial?.target[0]?.id ?? null) : t.id))
            : [null];
        for (const target of targets) {
          transitions.push({
            source,
            target,
            kind,
            event,
            eventLabel: shortEvent,
            guard,
            otherwise,
            actions: actionNames(transition.actions),
            label,
          });
        }
      }
    }
  };

  const visit = (node: AnyStateNode, parent: string | null) => {
    const children = childrenOf(node);
    states.push({
      id: node.id,
      key: node.key,
      path: [...node.path],
      parent,
      type: node.type,
      initial: node.type === 'compound' ? (node.initial?.target[0]?.id ?? null) : null,
      children: children.map((child) => child.id),
      tags: [...node.tags],
      invokes: node.invoke.map((invoke) => ({ id: invoke.id, src: srcName(invoke.src) })),
      entry: actionNames(node.entry),
      exit: actionNames(node.exit),
      transient: isTransient(node),
    });
    addTransitions(node, node.id);
    for (const child of children) visit(child, node.id);
  };

  addTransitions(root, root.id);
  for (const child of childrenOf(root)) visit(child, null);
  return {
    id: machine.id,
    initial: root.initial?.target[0]?.id ?? null,
    invokes: root.invoke.map((invoke) => ({ id: invoke.id, src: srcName(invoke.src) })),
    states,
    transitions,
  };
}

/** Top-level states of a graph, in definition order. */
export function topLevelStates(graph: MachineGraph): GraphState[] {
  return graph.states.filter((state) => state.parent === null);
}

/** The state with this id (throws when the graph has none: a bug in the walker). */
export function stateById(graph: MachineGraph, id: string): GraphState {
  const state = graph.states.find((candidate) => candidate.id === id);
  if (!state) throw new Error(`No state '${id}' in the graph of '${graph.id}'`);
  return state;
}

/** Ids of the state and its ancestors, innermost first. */
export function ancestry(graph: MachineGraph, id: string): string[] {
  const chain: string[] = [];
  let current: string | null = id;
  while (current !== null && current !== graph.id) {
    chain.push(current);
    current = stateById(graph, current).parent;
  }
  return chain;
}
