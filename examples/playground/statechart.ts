/**
 * A live statechart view: the machine's diagram with its active state highlighted and the states
 * the last resolution passed through marked.
 *
 * It uses the generated diagram `visualizations/<machine-id>.svg` when the server has one
 * (`npm run visualize`), matching the SVG's nodes to state nodes by id, title or label; when there
 * is none, or its nodes cannot be matched, it draws an outline of the machine from its definition
 * (`machine.root.states`): every state, its tags and its transitions.
 */
import type { AnyStateMachine, StateNode } from 'xstate';
import { el } from './dom.js';

type AnyStateNode = StateNode<any, any>;

/** A chart on the page. */
export interface Chart {
  readonly machine: AnyStateMachine;
  readonly element: HTMLElement;
  /** `svg` (the generated diagram) or `outline` (drawn from the definition). */
  readonly mode: 'svg' | 'outline';
  /** Highlights the states of `value` (a snapshot's value) as active, and marks them visited. */
  showValue(value: unknown): void;
  /** Marks states by id (e.g. the sources and targets of a microstep's transitions) as visited. */
  markVisited(stateIds: readonly string[]): void;
  /** Clears the active and visited marks. */
  clear(): void;
  /** Leaf states visited since `clear()`, in order (consecutive repeats dropped). */
  readonly trail: readonly string[];
}

/** Every state node of a machine, depth first in document order. */
function allNodes(machine: AnyStateMachine): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      nodes.push(child);
      walk(child);
    }
  };
  walk(machine.root as AnyStateNode);
  return nodes;
}

/** The state nodes a snapshot value names, ancestors included. */
function nodesOfValue(machine: AnyStateMachine, value: unknown): AnyStateNode[] {
  const found: AnyStateNode[] = [];
  const walk = (node: AnyStateNode, part: unknown) => {
    if (typeof part === 'string') {
      const child = node.states[part] as AnyStateNode | undefined;
      if (child) found.push(child);
      return;
    }
    if (part === null || typeof part !== 'object') return;
    for (const [key, inner] of Object.entries(part)) {
      const child = node.states[key] as AnyStateNode | undefined;
      if (!child) continue;
      found.push(child);
      walk(child, inner);
    }
  };
  walk(machine.root as AnyStateNode, value);
  return found;
}

const normalize = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Names an SVG group may carry for a state: ids, data attributes, its <title> and first label. */
function svgNames(group: SVGGElement): string[] {
  const names = [group.id, group.dataset.id, group.dataset.state, group.dataset.stateId, group.dataset.node];
  names.push(group.querySelector(':scope > title')?.textContent ?? undefined);
  names.push(group.querySelector(':scope > text, :scope > a text, :scope > g text')?.textContent ?? undefined);
  return names.filter((name): name is string => typeof name === 'string' && name.trim() !== '').map(normalize);
}

/**
 * Matches state nodes to the SVG groups that draw them: by full id (`machine.path.to.state`, any
 * separators), by path without the machine id, or — when unique in the machine — by key; clusters
 * (`cluster_…`) count too.
 */
function matchSvg(machine: AnyStateMachine, svg: SVGSVGElement): Map<string, SVGGElement[]> {
  const nodes = allNodes(machine);
  const keyCounts = new Map<string, number>();
  for (const node of nodes) keyCounts.set(normalize(node.key), (keyCounts.get(normalize(node.key)) ?? 0) + 1);
  const groups = [...svg.querySelectorAll<SVGGElement>('g')].map((group) => ({ group, names: svgNames(group) }));
  const matches = new Map<string, SVGGElement[]>();
  for (const node of nodes) {
    const candidates = new Set([normalize(node.id), normalize(`${machine.id}.${node.path.join('.')}`), normalize(node.path.join('.'))]);
    if (keyCounts.get(normalize(node.key)) === 1) candidates.add(normalize(node.key));
    for (const candidate of [...candidates]) candidates.add(`cluster${candidate}`);
    const hits = groups.filter(({ names }) => names.some((name) => candidates.has(name))).map(({ group }) => group);
    // The innermost matching groups only (a renderer may wrap a node's group in another named alike).
    const innermost = hits.filter((group) => !hits.some((other) => other !== group && group.contains(other)));
    if (innermost.length > 0) matches.set(node.id, innermost);
  }
  return matches;
}

function describeEvent(eventType: string): string {
  if (eventType === '') return 'always';
  const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (done) return `${done[1]} done`;
  const failed = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (failed) return `${failed[1]} failed`;
  if (eventType.startsWith('xstate.after.')) return `after ${eventType.split('.')[2] ?? ''} ms`;
  return eventType;
}

function guardName(guard: unknown): string | undefined {
  if (typeof guard === 'string') return guard;
  if (guard && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  if (typeof guard === 'function') return guard.name || 'guard';
  return undefined;
}

/** The outline of a state node's children: name, tags, transitions; compound states nest. */
function outline(parent: AnyStateNode, register: (node: AnyStateNode, box: HTMLElement) => void): HTMLOListElement {
  const list = el('ol', 'chart-states');
  const initial = parent.initial?.target?.[0] as AnyStateNode | undefined;
  for (const node of Object.values(parent.states) as AnyStateNode[]) {
    const item = el('li', 'chart-state');
    item.dataset.stateId = node.id;
    item.dataset.stateKey = node.key;
    const box = el('div', `state-box state-type-${node.type}`);
    const head = el('div', 'state-head');
    if (initial === node) head.append(el('span', 'state-initial', '●'));
    head.append(el('span', 'state-name', node.key));
    for (const tag of node.tags) head.append(el('span', `state-tag tag-${tag}`, tag));
    if (node.type === 'final') head.append(el('span', 'state-final', 'final'));
    box.append(head);
    const transitions = [...node.transitions.values()].flat().concat(node.always ?? []);
    const lines = transitions
      .filter((transition) => transition.target && transition.target.length > 0)
      .map((transition) => {
        const guard = guardName(transition.guard);
        const targets = (transition.target as AnyStateNode[]).map((target) => target.key).join(', ');
        return `${describeEvent(transition.eventType)}${guard ? ` [${guard}]` : ''} → ${targets}`;
      });
    if (lines.length > 0) {
      const edges = el('ul', 'state-edges');
      for (const line of lines) edges.append(el('li', undefined, line));
      box.append(edges);
    }
    item.append(box);
    register(node, box);
    if (Object.keys(node.states).length > 0) item.append(outline(node, register));
    list.append(item);
  }
  return list;
}

/**
 * Builds a chart for `machine`: the generated SVG when `svgText` is given and at least half of the
 * machine's states can be found in it, else the outline.
 *
 * @example
 * ```ts
 * const chart = createChart(strategies.byName('reuse-per-session')!.machine, await fetchSvg('reuse-per-session'));
 * container.replaceChildren(chart.element);
 * chart.showValue('ready');
 * ```
 */
export function createChart(machine: AnyStateMachine, svgText: string | undefined): Chart {
  const boxes = new Map<string, Element[]>();
  let mode: Chart['mode'] = 'outline';
  let root = el('div', 'chart');

  if (svgText) {
    const holder = el('div', 'chart chart-svg');
    holder.innerHTML = svgText;
    const svg = holder.querySelector('svg');
    if (svg) {
      const matches = matchSvg(machine, svg);
      if (matches.size * 2 >= allNodes(machine).length) {
        mode = 'svg';
        root = holder;
        for (const [id, groups] of matches) {
          for (const group of groups) group.dataset.stateId = id;
          boxes.set(id, groups);
        }
      }
    }
  }
  if (mode === 'outline') {
    root.classList.add('chart-outline');
    root.append(outline(machine.root as AnyStateNode, (node, box) => boxes.set(node.id, [box])));
  }
  root.dataset.machine = machine.id;
  root.dataset.mode = mode;

  const byId = new Map(allNodes(machine).map((node) => [node.id, node]));
  const visited = new Set<string>();
  const trail: string[] = [];
  const mark = (ids: Iterable<string>, className: string) => {
    for (const id of ids) for (const box of boxes.get(id) ?? []) box.classList.add(className);
  };
  const pushTrail = (node: AnyStateNode) => {
    if (Object.keys(node.states).length > 0) return;
    const name = node.path.join('.');
    if (trail.at(-1) !== name) trail.push(name);
  };

  return {
    machine,
    element: root,
    mode,
    trail,
    showValue(value) {
      const nodes = nodesOfValue(machine, value);
      for (const box of root.querySelectorAll('.is-active')) box.classList.remove('is-active');
      for (const node of nodes) {
        visited.add(node.id);
        pushTrail(node);
      }
      mark(visited, 'is-visited');
      mark(
        nodes.map((node) => node.id),
        'is-active',
      );
      const leaves = nodes.filter((node) => Object.keys(node.states).length === 0).map((node) => node.path.join('.'));
      root.dataset.active = leaves.join(' ');
    },
    markVisited(stateIds) {
      for (const id of stateIds) {
        const node = byId.get(id);
        if (!node) continue;
        visited.add(node.id);
        pushTrail(node);
      }
      mark(visited, 'is-visited');
    },
    clear() {
      visited.clear();
      trail.length = 0;
      for (const box of root.querySelectorAll('.is-active, .is-visited')) box.classList.remove('is-active', 'is-visited');
      delete root.dataset.active;
    },
  };
}
