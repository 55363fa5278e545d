/**
 * The offline trace: one JSON line per actor creation, event and snapshot of every actor (the
 * run manager, its strategy children and their request actors), sanitized, to a callback or a file.
 */
import { mkdtemp, readFile, rm as removeDir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActor, createMachine, fromPromise, waitFor } from 'xstate';
import { createDevToken, startEmulator, type Emulator } from '../src/emulator/index.js';
import {
  createMemorySessionStore,
  createTraceRecorder,
  RunManager,
  RunManagerError,
  type RunManagerOptions,
  type TraceLine,
} from '../src/index.js';

const TOKEN = createDevToken({ userId: 'u1', userName: 'alice', purpose: 'trace-test-token' });

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, variables: { price: 42 } });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

function options(inspect: RunManagerOptions['inspect']): RunManagerOptions {
  return {
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL },
    session: { userId: 'u1', auth_token: TOKEN, debug: `Authorization: Bearer ${TOKEN}` },
    sessionStore: createMemorySessionStore(),
    retry: { retries: 0 },
    inspect,
  };
}

async function walk(rm: RunManager): Promise<void> {
  try {
    await rm.getRun(['price']);
    await rm.reset();
    await rm.getRun();
  } finally {
    rm.stop();
  }
}

/** The states an actor went through, transient ones included, from its snapshot lines. */
function statesOf(lines: TraceLine[], sessionId: string): unknown[] {
  return lines
    .filter((line) => line.sessionId === sessionId && line.type === 'snapshot' && line.state !== undefined)
    .flatMap((line) => [...(line.via ?? []), line.state]);
}

describe('createTraceRecorder', () => {
  it('writes one sanitized JSON line per actor, event and snapshot of every actor', async () => {
    const written: string[] = [];
    const trace = createTraceRecorder({ write: (line) => written.push(line) });
    await walk(new RunManager(options(trace)));
    await trace.close();

    expect(trace.lines).toBe(written.length);
    for (const text of written) {
      expect(text).not.toContain('\n');
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('[services]'); // lines hold names and states, not contexts
    }
    const lines = written.map((text) => JSON.parse(text) as TraceLine);
    for (const [i, line] of lines.entries()) {
      expect(line).toMatchObject({ t: expect.any(Number), actor: expect.any(String), sessionId: expect.any(String) });
      expect(['actor', 'event', 'snapshot']).toContain(line.type);
      if (i > 0) expect(line.t).toBeGreaterThanOrEqual(lines[i - 1]!.t);
    }

    const actors = lines.filter((line) => line.type === 'actor');
    expect(actors[0]).toMatchObject({ actor: 'run-manager', type: 'actor' });
    const strategies = actors.filter((line) => line.actor === 'strategy');
    expect(strategies).toHaveLength(3);
    for (const line of strategies) expect(line.parent).toBe('run-manager');
    expect(new Set(actors.map((line) => line.actor))).toEqual(
      new Set(['run-manager', 'session', 'strategy', 'createRun', 'loadRun', 'fetchVariables']),
    );

    // reuse-per-session: create on the first getRun and on reset, then load the remembered run.
    const [first, reset, again] = strategies.map((line) => line.sessionId);
    expect(statesOf(lines, first!)).toEqual(['checkingSession', 'creating', 'ready']);
    expect(statesOf(lines, reset!)).toEqual(['checkingSession', 'creating', 'ready']);
    expect(statesOf(lines, again!)).toEqual(['checkingSession', 'loadingRun', 'ready']);
    const strategyEnd = lines.filter((line) => line.sessionId === first && line.type === 'snapshot').at(-1);
    expect(strategyEnd).toMatchObject({ state: 'ready', status: 'done', event: 'xstate.done.actor.createRun' });

    // The run manager's nested states, in order (checkingVariables is transient).
    const root = actors[0]!.sessionId;
    expect(statesOf(lines, root).slice(0, 8)).toEqual([
      'idle',
      { working: { locked: 'waitingForLock' } },
      { working: { locked: 'resolving' } },
      { working: { locked: 'persisting' } },
      'working.checkingVariables',
      { working: 'fetchingVariables' },
      'working.checkingVariables',
      'ready',
    ]);
    expect(lines).toContainEqual(expect.objectContaining({ actor: 'run-manager', type: 'event', event: 'RESET' }));
    expect(lines).toContainEqual(
      expect.objectContaining({ actor: 'run-manager', type: 'event', event: 'xstate.done.actor.strategy', source: 'strategy' }),
    );
  });

  it('says why a resolution failed', async () => {
    const written: string[] = [];
    const rm = new RunManager({
      ...options(createTraceRecorder({ write: (line) => written.push(line) })),
      strategy: 'use-specific-run',
      strategyOptions: { runId: 'no-such-run' },
    });
    await expect(rm.getRun()).rejects.toMatchObject({ type: 'RUN_NOT_FOUND' });
    rm.stop();
    const lines = written.map((text) => JSON.parse(text) as TraceLine);
    const failed = {
      type: 'snapshot',
      state: 'error',
      error: expect.objectContaining({ name: 'RunManagerError', type: 'RUN_NOT_FOUND', status: 404 }),
    };
    expect(lines).toContainEqual(expect.objectContaining({ actor: 'strategy', status: 'done', ...failed }));
    expect(lines).toContainEqual(expect.objectContaining({ actor: 'run-manager', status: 'active', ...failed }));
  });

  it('writes a file in Node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'run-lifecycle-trace-'));
    try {
      const file = join(dir, 'trace.jsonl');
      const trace = createTraceRecorder({ file });
      await walk(new RunManager(options(trace)));
      await trace.close();
      const text = await readFile(file, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const lines = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as TraceLine);
      expect(lines).toHaveLength(trace.lines);
      expect(lines.some((line) => line.actor === 'strategy')).toBe(true);
      expect(text).not.toContain(TOKEN);
    } finally {
      await removeDir(dir, { recursive: true, force: true });
    }
  });

  it('sanitizes on its own when used directly on an actor, and reports an errored actor', async () => {
    const written: string[] = [];
    const trace = createTraceRecorder({ write: (line) => written.push(line), secrets: () => ['tok-998877'] });
    const machine = createMachine({
      id: 'm',
      initial: 'a',
      states: {
        a: { on: { GO: 'b' } },
        b: { always: 'loading' },
        loading: {
          invoke: {
            id: 'load',
            src: fromPromise(async () => {
              throw new RunManagerError('UNAUTHORIZED', 'rejected tok-998877', { status: 401 });
            }),
            onError: 'failed',
          },
        },
        failed: { type: 'final' },
      },
    });
    const actor = createActor(machine, { inspect: trace });
    actor.start();
    actor.send({ type: 'GO', note: 'tok-998877' });
    await waitFor(actor, (snapshot) => snapshot.status === 'done');
    for (const text of written) expect(text).not.toContain('tok-998877');
    const lines = written.map((text) => JSON.parse(text) as TraceLine);
    expect(
      lines.filter((line) => line.actor === 'm').map((line) => [line.type, line.event ?? null, line.state ?? null, line.status ?? null]),
    ).toEqual([
      ['actor', null, null, null],
      ['event', 'xstate.init', null, null],
      ['snapshot', 'xstate.init', 'a', 'active'],
      ['event', 'GO', null, null],
      ['snapshot', 'GO', 'loading', 'active'],
      ['event', 'xstate.error.actor.load', null, null],
      ['snapshot', 'xstate.error.actor.load', 'failed', 'done'],
    ]);
    expect(lines.find((line) => line.actor === 'm' && line.state === 'loading')?.via).toEqual(['b']);
    expect(lines.find((line) => line.actor === 'load' && line.status === 'error')).toMatchObject({
      type: 'snapshot',
      event: 'xstate.promise.reject',
      error: { name: 'RunManagerError', type: 'UNAUTHORIZED', message: 'rejected [redacted]', status: 401 },
    });
  });

  it('keeps the actor running when the writer throws, and reports it on close', async () => {
    const trace = createTraceRecorder({
      write: () => {
        throw new Error('disk full');
      },
    });
    const actor = createActor(createMachine({ initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } }), { inspect: trace });
    actor.start();
    actor.send({ type: 'GO' });
    expect(actor.getSnapshot().value).toBe('b');
    await expect(trace.close()).rejects.toThrow('disk full');
  });
});
