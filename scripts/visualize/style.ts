/**
 * What both renderers show about a state besides its name, and which colour family it gets.
 */
import { ancestry, stateById, type GraphState, type MachineGraph } from './model.js';

/** Colour family of a state: by its tags (own or inherited from a parent, as `hasTag` sees them). */
export type StateStyle = 'busy' | 'ready' | 'error' | 'plain';

/**
 * The colour family of a state: `error` and `ready` tags win over `busy`; a state without any of
 * them (own or inherited) is `plain`.
 */
export function styleOf(state: GraphState, graph?: MachineGraph): StateStyle {
  const tags = new Set(state.tags);
  if (graph) for (const id of ancestry(graph, state.id)) for (const tag of stateById(graph, id).tags) tags.add(tag);
  if (tags.has('error')) return 'error';
  if (tags.has('ready')) return 'ready';
  if (tags.has('busy')) return 'busy';
  return 'plain';
}

/** `invoke fetchLatest`, or `invoke saveFlag (saveRun)` when the child id differs from the actor name. */
export function invokeText(invoke: { id: string; src: string }): string {
  return invoke.id === invoke.src ? `invoke ${invoke.id}` : `invoke ${invoke.id} (${invoke.src})`;
}

/**
 * The detail lines of a state, UML-style: `invoke fetchLatest · busy` (`parallel` for a parallel
 * state, invoked actors, own tags),
 * `entry / settleCallers`, `exit / …`, and its targetless transitions as `GET_RUN / joinResolution`.
 *
 * @example
 * ```ts
 * stateLines(graph, stateById(graph, 'reuse-across-sessions.fetchingLatest')); // ['invoke fetchLatest · busy']
 * ```
 */
export function stateLines(graph: MachineGraph, state: GraphState): string[] {
  const lines: string[] = [];
  const head = [...(state.type === 'parallel' ? ['parallel'] : []), ...state.invokes.map(invokeText), ...state.tags];
  if (head.length > 0) lines.push(head.join(' · '));
  if (state.entry.length > 0) lines.push(`entry / ${state.entry.join(', ')}`);
  if (state.exit.length > 0) lines.push(`exit / ${state.exit.join(', ')}`);
  for (const transition of graph.transitions) {
    if (transition.source !== state.id || transition.target !== null) continue;
    const actions = transition.actions.length > 0 ? ` / ${transition.actions.join(', ')}` : '';
    lines.push(`${transition.label}${actions}`);
  }
  return lines;
}
