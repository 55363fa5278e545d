import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMachine, fromPromise, not, setup } from 'xstate';
import { STRATEGY } from '../src/index.js';
import { toDot } from '../scripts/visualize/dot.js';
import { checkFiles, formatCheck, generateFiles, libraryMachines, VISUALIZATIONS_DIR, writeFiles } from '../scripts/visualize/generate.js';
import { mermaidIds, toMermaid } from '../scripts/visualize/mermaid.js';
import { machineToGraph, stateById } from '../scripts/visualize/model.js';

/** A small machine with everything the walker has to find. */
const tinyMachine = setup({
  actors: {
    fetchThing: fromPromise(async () => 1),
    holdThing: fromPromise(async () => 2),
  },
  guards: {
    isReset: () => false,
    isGood: (_, params: { min: number }) => params.min > 0,
  },
  actions: {
    note: () => undefined,
    greet: () => undefined,
  },
}).createMachine({
  id: 'tiny',
  initial: 'deciding',
  states: {
    deciding: {
      tags: 'busy',
      always: [{ guard: 'isReset', target: 'done' }, { target: 'outer' }],
    },
    outer: {
      tags: 'busy',
      entry: 'greet',
      invoke: { id: 'holder', src: 'holdThing' },
      on: { PING: { actions: 'note' } },
      initial: 'fetching',
      states: {
        fetching: {
          invoke: {
            id: 'fetchOne',
            src: 'fetchThing',
            onDone: [{ guard: { type: 'isGood', params: { min: 1 } }, target: '#tiny.done' }, { target: 'retrying' }],
            onError: '#tiny.failed',
          },
        },
        retrying: {
          on: { RETRY: { guard: not('isReset'), target: 'fetching' } },
        },
      },
    },
    done: { type: 'final', tags: 'ready' },
    failed: { type: 'final', tags: 'error' },
  },
});

describe('visualizations/', () => {
  it('is up to date with the machine definitions', async () => {
    const result = await checkFiles(VISUALIZATIONS_DIR, await generateFiles(libraryMachines()));
    // The message lists every stale, missing or extra file and says to run `npm run visualize`.
    expect(result.ok, formatCheck(result)).toBe(true);
  });

  it('draws every built-in strategy, the legacy wrapper, the lost-create search and the run-manager machine', () => {
    const ids = libraryMachines().map(({ machine }) => machine.id);
    expect(new Set(ids)).toEqual(new Set([...Object.values(STRATEGY), 'legacy-strategy', 'find-created-run', 'run-manager']));
  });
});

describe('the model walker', () => {
  const graph = machineToGraph(tinyMachine);

  it('finds states, nesting, initial states, finals, tags, invokes and decision states', () => {
    expect(graph.id).toBe('tiny');
    expect(graph.initial).toBe('tiny.deciding');
    expect(graph.states.map((state) => state.id)).toEqual([
      'tiny.deciding',
      'tiny.outer',
      'tiny.outer.fetching',
      'tiny.outer.retrying',
      'tiny.done',
      'tiny.failed',
    ]);
    const outer = stateById(graph, 'tiny.outer');
    expect(outer).toMatchObject({
      type: 'compound',
      parent: null,
      initial: 'tiny.outer.fetching',
      children: ['tiny.outer.fetching', 'tiny.outer.retrying'],
      tags: ['busy'],
      invokes: [{ id: 'holder', src: 'holdThing' }],
      entry: ['greet'],
      transient: false,
    });
    expect(stateById(graph, 'tiny.outer.fetching')).toMatchObject({
      parent: 'tiny.outer',
      path: ['outer', 'fetching'],
      invokes: [{ id: 'fetchOne', src: 'fetchThing' }],
    });
    expect(stateById(graph, 'tiny.deciding')).toMatchObject({ transient: true, tags: ['busy'] });
    expect(stateById(graph, 'tiny.done')).toMatchObject({ type: 'final', tags: ['ready'] });
    expect(stateById(graph, 'tiny.failed')).toMatchObject({ type: 'final', tags: ['error'] });
  });

  it('labels transitions with the short event and the guard name', () => {
    const summary = graph.transitions.map((t) => [t.source, t.target, t.kind, t.label]);
    expect(summary).toEqual([
      ['tiny.deciding', 'tiny.done', 'always', 'always [isReset]'],
      ['tiny.deciding', 'tiny.outer', 'always', 'always [else]'],
      ['tiny.outer', null, 'event', 'PING'],
      ['tiny.outer.fetching', 'tiny.done', 'done', 'done: fetchOne [isGood]'],
      ['tiny.outer.fetching', 'tiny.outer.retrying', 'done', 'done: fetchOne [else]'],
      ['tiny.outer.fetching', 'tiny.failed', 'error', 'error: fetchOne'],
      ['tiny.outer.retrying', 'tiny.outer.fetching', 'event', 'RETRY [not(isReset)]'],
    ]);
    const fetched = graph.transitions.find((t) => t.guard === 'isGood');
    expect(fetched).toMatchObject({ event: 'xstate.done.actor.fetchOne', eventLabel: 'done: fetchOne', otherwise: false });
    expect(graph.transitions.find((t) => t.event === 'PING')?.actions).toEqual(['note']);
  });

  it('renders Mermaid with composite states, finals, escaped labels and internal transitions', () => {
    const mermaid = toMermaid(graph);
    expect(mermaid.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(mermaid).toContain('  [*] --> deciding\n');
    expect(mermaid).toContain('  state "outer · invoke holder (holdThing) · busy · entry / greet · PING / note" as outer {\n');
    expect(mermaid).toContain('    [*] --> fetching\n');
    // The name first (Mermaid shows the first description as the title), then the details.
    expect(mermaid).toContain('    fetching : fetching\n    fetching : invoke fetchOne (fetchThing)\n');
    expect(mermaid).toContain('  done --> [*]\n');
    expect(mermaid).toContain('  deciding --> done : always [isReset]\n');
    // Mermaid cannot take a raw ':' in a label: it is written as an entity code.
    expect(mermaid).toContain('  fetching --> done : done#58; fetchOne [isGood]\n');
    expect(mermaid).toContain('  retrying --> fetching : RETRY [not(isReset)]\n');
    expect(mermaid).toMatch(/classDef busyDecision .*stroke-dasharray/);
  });

  it('renders DOT with clusters, a start dot, double-bordered finals and dashed decisions', () => {
    const dot = toDot(graph);
    expect(dot).toContain('subgraph "cluster_tiny.outer" {');
    expect(dot).toMatch(/"tiny\.__initial" \[shape=point/);
    expect(dot).toMatch(/"tiny\.outer\.__initial" \[shape=point/);
    expect(dot).toMatch(/"tiny\.done" \[[^\n]*peripheries=2/);
    expect(dot).toMatch(/"tiny\.deciding" \[[^\n]*style="rounded,filled,dashed"/);
    expect(dot).toContain('done: fetchOne [isGood]');
    expect(dot).toContain('PING / note');
  });

  it('puts every state and every named guard of every real machine in its Mermaid diagram', () => {
    for (const { name, machine } of libraryMachines()) {
      const machineGraph = machineToGraph(machine);
      const mermaid = toMermaid(machineGraph);
      const ids = mermaidIds(machineGraph);
      for (const state of machineGraph.states) {
        const id = ids.get(state.id)!;
        const declared = new RegExp(`^\\s*(state "[^"\\n]*" as ${id}\\b|${id}( :|$))`, 'm');
        expect(mermaid, `${name}: state ${state.id}`).toMatch(declared);
        expect(mermaid, `${name}: state ${state.id}`).toContain(state.key);
      }
      const guards = Object.keys(machine.implementations.guards);
      for (const guard of guards) expect(mermaid, `${name}: guard ${guard}`).toContain(`[${guard}]`);
    }
  });
});

describe('the check', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const small = (extraState: boolean) =>
    createMachine({
      id: 'small',
      initial: 'a',
      states: {
        a: { on: extraState ? { GO: 'b', STOP: 'c' } : { GO: 'b' } },
        b: { type: 'final' },
        ...(extraState ? { c: { type: 'final' as const } } : {}),
      },
    });

  it('reports a machine that gained a state as stale, and missing or extra files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'visualizations-'));
    const before = await generateFiles([{ name: 'smallMachine', machine: small(false) }]);
    expect(await checkFiles(dir, before)).toEqual({
      ok: false,
      stale: [],
      missing: ['README.md', 'small.mmd', 'small.svg'],
      extra: [],
    });
    await writeFiles(dir, before);
    expect((await checkFiles(dir, before)).ok).toBe(true);
    // Deterministic: generating again gives the same files.
    expect((await checkFiles(dir, await generateFiles([{ name: 'smallMachine', machine: small(false) }]))).ok).toBe(true);

    const after = await generateFiles([{ name: 'smallMachine', machine: small(true) }]);
    const stale = await checkFiles(dir, after);
    expect(stale).toEqual({ ok: false, stale: ['README.md', 'small.mmd', 'small.svg'], missing: [], extra: [] });
    expect(formatCheck(stale, 'visualizations')).toContain('stale:   visualizations/small.svg');
    expect(formatCheck(stale)).toContain('npm run visualize');

    await rm(join(dir, 'small.svg'));
    await writeFile(join(dir, 'old-machine.svg'), '<svg/>');
    expect(await checkFiles(dir, before)).toEqual({
      ok: false,
      stale: [],
      missing: ['small.svg'],
      extra: ['old-machine.svg'],
    });

    // Writing repairs all of it: the new files in, the file no machine produces out.
    const written = await writeFiles(dir, after);
    expect(written.written).toEqual(['README.md', 'small.mmd', 'small.svg']);
    expect(written.removed).toEqual(['old-machine.svg']);
    expect((await readdir(dir)).sort()).toEqual(['README.md', 'small.mmd', 'small.svg']);
    expect((await checkFiles(dir, after)).ok).toBe(true);
  });
});
