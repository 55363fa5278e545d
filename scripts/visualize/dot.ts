/**
 * Renders a {@link MachineGraph} as Graphviz DOT (laid out with `dot`). Pure and deterministic.
 *
 * States are rounded boxes (name in bold, a second line with the invoked actor and tags), the
 * initial state of each level is pointed at by a filled dot, final states have a double border,
 * decision states (eventless only) are dashed, compound states are clusters. Colours follow the
 * tags: busy neutral grey, ready green, error red. Transitions with the same source and target
 * share one arrow with one label line each (red for `error:`); an arrow of only `error:` transitions
 * is red, one of only `always` transitions dashed. In a machine with compound states each label is
 * a small text node of its own, which dot keeps off cluster borders (see {@link DotOptions}).
 */
import { ancestry, stateById, topLevelStates, type GraphState, type GraphTransition, type MachineGraph } from './model.js';
import { stateLines, styleOf, type StateStyle } from './style.js';

/**
 * Graphviz measures text with its built-in Arial/Helvetica metrics; the SVG then names Arial
 * (which Linux maps to the metric-compatible Liberation Sans) with Helvetica as the fallback.
 */
const FONT = 'Arial';
/** The `font-family` the SVG ends up with (see {@link svgFontFamily}). */
export const SVG_FONT_FAMILY = 'Arial,Helvetica,sans-serif';

const PALETTE: Record<StateStyle, { fill: string; border: string; text: string }> = {
  busy: { fill: '#f3f4f6', border: '#6b7280', text: '#111827' },
  ready: { fill: '#e3f4e6', border: '#2e7d32', text: '#0b3d12' },
  error: { fill: '#fde8e8', border: '#c62828', text: '#5c0b0b' },
  plain: { fill: '#ffffff', border: '#6b7280', text: '#111827' },
};

const EDGE = {
  normal: { color: '#374151', font: '#1f2937', style: 'solid' },
  error: { color: '#b91c1c', font: '#991b1b', style: 'solid' },
  always: { color: '#6b7280', font: '#374151', style: 'dashed' },
} as const;

type EdgeClass = keyof typeof EDGE;

/** Options of {@link toDot}. */
export interface DotOptions {
  /** Bold title above the diagram (default: the machine id). */
  title?: string;
  /** Grey text after the title (e.g. the export name). */
  subtitle?: string;
  /** `TB` (top-down) or `LR` (left-to-right); default: {@link chooseRankdir}. */
  rankdir?: 'TB' | 'LR';
  /**
   * `inline`: labels on the arrows; `nodes`: each label is a small text node the arrow passes
   * through, placed inside the innermost compound state holding both ends, so labels of arrows that
   * cross a cluster border never sit on that border. Default: `nodes` when the machine has compound
   * states, else `inline`.
   */
  edgeLabels?: 'inline' | 'nodes';
}

/** Quotes a DOT id or string attribute. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Escapes text for a DOT HTML-like label. */
export function htmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The layout direction: top-down, the way a lifecycle reads (`checkingSession` at the top, `ready`
 * and `error` at the bottom), except for machines so small that a row reads better.
 */
export function chooseRankdir(graph: MachineGraph): 'TB' | 'LR' {
  return graph.states.length <= 3 ? 'LR' : 'TB';
}

/** Bold name, then the detail lines (invoke, tags, internal transitions) in grey. */
function stateLabel(graph: MachineGraph, state: GraphState, align: 'CENTER' | 'LEFT'): string {
  const br = align === 'LEFT' ? '<BR ALIGN="LEFT"/>' : '<BR/>';
  const details = stateLines(graph, state).map((line) => `${br}<FONT POINT-SIZE="11" COLOR="#4b5563">${htmlText(line)}</FONT>`);
  return `<<B>${htmlText(state.key)}</B>${details.join('')}${align === 'LEFT' ? br : ''}>`;
}

function edgeClass(transition: GraphTransition): EdgeClass {
  if (transition.kind === 'error') return 'error';
  if (transition.kind === 'always') return 'always';
  return 'normal';
}

/** The leaf a transition into (or out of) a compound state is drawn to: its initial descendant. */
function anchorLeaf(graph: MachineGraph, id: string): string {
  let state = stateById(graph, id);
  while (state.children.length > 0) {
    const next = state.initial ?? state.children[0];
    if (next === undefined) break;
    state = stateById(graph, next);
  }
  return state.id;
}

function clusterId(id: string): string {
  return `cluster_${id}`;
}

/**
 * The DOT source of a machine graph.
 *
 * @example
 * ```ts
 * const dot = toDot(machineToGraph(reuseNeverMachine), { subtitle: 'reuseNeverMachine' });
 * ```
 */
export function toDot(graph: MachineGraph, options: DotOptions = {}): string {
  const rankdir = options.rankdir ?? chooseRankdir(graph);
  const title = options.title ?? graph.id;
  const subtitle = options.subtitle ? `<FONT COLOR="#6b7280">  ·  ${htmlText(options.subtitle)}</FONT>` : '';
  const anyState = `${graph.id}.__any`;
  const edges = mergeEdges(graph);
  const labelNodes = options.edgeLabels ?? (graph.states.some((state) => state.children.length > 0) ? 'nodes' : 'inline');
  const lines: string[] = [];
  lines.push(`digraph ${dotString(graph.id)} {`);
  lines.push(
    `  graph [rankdir=${rankdir}, compound=true, newrank=true, fontname=${dotString(FONT)}, fontsize=14, ` +
      `labelloc=t, labeljust=l, label=<<B>${htmlText(title)}</B>${subtitle}>, ` +
      `nodesep=0.35, ranksep=${labelNodes === 'nodes' ? 0.22 : 0.45}, pad="0.3", bgcolor="white"];`,
  );
  lines.push(
    `  node [fontname=${dotString(FONT)}, fontsize=12, shape=box, style="rounded,filled", ` + `margin="0.18,0.07", penwidth=1.3];`,
  );
  lines.push(`  edge [fontname=${dotString(FONT)}, fontsize=11, arrowsize=0.7, penwidth=1.1];`);

  // Label nodes sit in the innermost compound state holding both ends, so dot keeps them off cluster borders.
  const labelsByScope = new Map<string | null, DrawnEdge[]>();
  if (labelNodes === 'nodes') {
    for (const edge of edges) labelsByScope.set(edge.scope, [...(labelsByScope.get(edge.scope) ?? []), edge]);
  }
  const declareLabels = (scope: string | null, indent: string) => {
    for (const edge of labelsByScope.get(scope) ?? []) {
      lines.push(`${indent}${dotString(edge.id)} [shape=plaintext, style="", margin="0.03,0.01", label=<${edgeLabel(edge, 1)}>];`);
    }
  };

  const initialNode = (scope: string, target: string, indent: string) => {
    const point = `${scope}.__initial`;
    lines.push(`${indent}${dotString(point)} [shape=point, width=0.14, style=filled, color="#111827", fillcolor="#111827", label=""];`);
    const head = anchorLeaf(graph, target);
    const lhead = head !== target ? `, lhead=${dotString(clusterId(target))}` : '';
    lines.push(`${indent}${dotString(point)} -> ${dotString(head)} [color="#111827"${lhead}];`);
  };

  const declare = (state: GraphState, indent: string) => {
    const palette = PALETTE[styleOf(state, graph)];
    if (state.children.length > 0) {
      lines.push(`${indent}subgraph ${dotString(clusterId(state.id))} {`);
      const inner = `${indent}  `;
      const fill = styleOf(state, graph) === 'busy' ? '#fafafa' : '#ffffff';
      lines.push(
        `${inner}graph [style="rounded,filled", color=${dotString(palette.border)}, fillcolor=${dotString(fill)}, ` +
          `penwidth=1.2, fontsize=12, labeljust=l, margin=12, label=${stateLabel(graph, state, 'LEFT')}];`,
      );
      if (state.initial) initialNode(state.id, state.initial, inner);
      for (const child of state.children) declare(stateById(graph, child), inner);
      declareLabels(state.id, inner);
      lines.push(`${indent}}`);
      return;
    }
    const styles = ['rounded', 'filled'];
    if (state.transient) styles.push('dashed');
    const attributes = [
      `label=${stateLabel(graph, state, 'CENTER')}`,
      `style=${dotString(styles.join(','))}`,
      `fillcolor=${dotString(state.transient ? '#ffffff' : palette.fill)}`,
      `color=${dotString(palette.border)}`,
      `fontcolor=${dotString(palette.text)}`,
    ];
    if (state.type === 'final') attributes.push('peripheries=2');
    lines.push(`${indent}${dotString(state.id)} [${attributes.join(', ')}];`);
  };

  if (graph.initial) initialNode(graph.id, graph.initial, '  ');
  for (const state of topLevelStates(graph)) declare(state, '  ');

  // Outcomes (final, ready or error states at the top level) side by side at the end of the flow.
  const outcomes = topLevelStates(graph).filter((state) => {
    const style = styleOf(state, graph);
    return state.children.length === 0 && (state.type === 'final' || style === 'ready' || style === 'error');
  });
  if (outcomes.length > 0) lines.push(`  { rank=sink; ${outcomes.map((state) => dotString(state.id)).join('; ')}; }`);

  if (edges.some((edge) => edge.tail === anyState)) {
    lines.push(`  ${dotString(anyState)} [shape=plaintext, style="", label="any state", fontcolor="#4b5563"];`);
  }
  declareLabels(null, '  ');

  for (const edge of edges) {
    const style = EDGE[edge.cls];
    const common = [`color=${dotString(style.color)}`];
    if (style.style !== 'solid') common.push(`style=${style.style}`);
    const ltail = edge.ltail ? [`ltail=${dotString(clusterId(edge.ltail))}`] : [];
    const lhead = edge.lhead ? [`lhead=${dotString(clusterId(edge.lhead))}`] : [];
    if (labelNodes === 'nodes') {
      lines.push(`  ${dotString(edge.tail)} -> ${dotString(edge.id)} [${[...common, 'arrowhead=none', ...ltail].join(', ')}];`);
      lines.push(`  ${dotString(edge.id)} -> ${dotString(edge.head)} [${[...common, ...lhead].join(', ')}];`);
    } else {
      const label = `label=<${edgeLabel(edge, 3)}>`;
      lines.push(`  ${dotString(edge.tail)} -> ${dotString(edge.head)} [${[label, ...common, ...lhead, ...ltail].join(', ')}];`);
    }
  }

  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** An arrow as drawn: transitions with the same source and target merged, ends resolved to nodes. */
interface DrawnEdge {
  /** Id of the label node (`<machine>.__edge<n>`). */
  id: string;
  tail: string;
  head: string;
  /** Cluster (compound state id) the arrow starts at, when the source is a compound state. */
  ltail: string | null;
  /** Cluster the arrow ends at, when the target is a compound state. */
  lhead: string | null;
  /** The innermost compound state holding both ends (`null`: the top level). */
  scope: string | null;
  cls: EdgeClass;
  lines: Array<{ text: string; cls: EdgeClass }>;
}

/** The compound states around what an arrow end is drawn at (a cluster or a leaf), outermost first. */
function containers(graph: MachineGraph, drawnAt: string): string[] {
  return ancestry(graph, drawnAt).slice(1).reverse();
}

/** One arrow per (source, target), one label line per transition, in transition order. */
function mergeEdges(graph: MachineGraph): DrawnEdge[] {
  const anyState = `${graph.id}.__any`;
  const byEnds = new Map<string, DrawnEdge>();
  for (const transition of graph.transitions) {
    if (transition.target === null) continue; // internal: listed inside its state
    const key = JSON.stringify([transition.source, transition.target]);
    let edge = byEnds.get(key);
    if (!edge) {
      const fromRoot = transition.source === graph.id;
      const tail = fromRoot ? anyState : anchorLeaf(graph, transition.source);
      const head = anchorLeaf(graph, transition.target);
      const tailChain = fromRoot ? [] : ancestry(graph, tail);
      const headChain = ancestry(graph, head);
      // Clip at a cluster border when an end is a compound state, unless one end is inside the other.
      const lhead = head !== transition.target && !tailChain.includes(transition.target) ? transition.target : null;
      const ltail = !fromRoot && tail !== transition.source && !headChain.includes(transition.source) ? transition.source : null;
      const tailScope = fromRoot ? [] : containers(graph, ltail ?? tail);
      const headScope = containers(graph, lhead ?? head);
      let depth = 0;
      while (depth < tailScope.length && depth < headScope.length && tailScope[depth] === headScope[depth]) depth += 1;
      edge = {
        id: `${graph.id}.__edge${byEnds.size}`,
        tail,
        head,
        ltail,
        lhead,
        scope: depth > 0 ? tailScope[depth - 1]! : null,
        cls: edgeClass(transition),
        lines: [],
      };
      byEnds.set(key, edge);
    }
    const cls = edgeClass(transition);
    if (!edge.lines.some((line) => line.text === transition.label)) edge.lines.push({ text: transition.label, cls });
    if (edge.cls !== cls) edge.cls = 'normal';
  }
  return [...byEnds.values()];
}

/** Labels longer than this put their `[guard]` on a line of its own, to keep the diagram narrow. */
const WRAP_AT = 30;

/** `done: findCreatedRun [foundCreatedRun]` → `done: findCreatedRun`, `[foundCreatedRun]` when long. */
export function wrapLabel(label: string): string[] {
  const split = label.lastIndexOf(' [');
  if (label.length <= WRAP_AT || split <= 0) return [label];
  return [label.slice(0, split), label.slice(split + 1)];
}

/** The HTML label of an arrow: one line per transition, coloured by kind, in a padded borderless table. */
function edgeLabel(edge: DrawnEdge, padding: number): string {
  const text = edge.lines
    .flatMap((line) => wrapLabel(line.text).map((part) => `<FONT COLOR="${EDGE[line.cls].font}">${htmlText(part)}</FONT>`))
    .join('<BR/>');
  return `<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="${padding}"><TR><TD>${text}</TD></TR></TABLE>`;
}

/**
 * Widens the SVG's `font-family` from Graphviz's `Arial` to {@link SVG_FONT_FAMILY}, so the
 * diagram keeps a metric-compatible font where Arial is missing.
 */
export function svgFontFamily(svg: string): string {
  return svg.replaceAll(`font-family="${FONT}"`, `font-family="${SVG_FONT_FAMILY}"`);
}
