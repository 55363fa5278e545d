/**
 * Replays one generated path on a real actor and checks every planned state, the output and the
 * emitted events. What the system under test produces is released through the path's script: by
 * default in-memory fake actors answer the planned outcomes; with `machine`, your services call
 * `script.take()`. An `after` step is waited for, so delays must be shorter than `stepTimeoutMs`.
 */
import {
  createActor,
  fromPromise,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
  type InspectionEvent,
} from 'xstate';
import { assertComparable } from './compare.js';
import { createCoverageTracker, type CoverageTracker } from './coverage.js';
import { stateValueText } from './plan.js';
import { createPathScript, type ControlledScript } from './script.js';
import type { ModelPath, ModelStep, PathScript, PlannedMacrostep } from './types.js';

/** Options of a replay. */
export interface ReplayOptions<TScript = unknown> {
  /** The machine wired to your own services, which call `script.take()`; default: the model's, with fake actors. */
  machine?: (script: PathScript<TScript>) => AnyStateMachine;
  /** Default: the path's input. */
  input?: (script: PathScript<TScript>) => unknown;
  /** Per step, in ms (default 2000); an `after` step's delay must fit in it. */
  stepTimeoutMs?: number;
  /** Throws when produced and planned values differ (default: `assertComparable`). */
  compare?: (actual: unknown, expected: unknown, what: string) => void;
  /** Receives every inspection event of the replayed actor. */
  inspect?: (event: InspectionEvent) => void;
}

/** What a replay saw. */
export interface ReplayResult {
  /** The path replayed. */
  path: ModelPath;
  /** Stable snapshots, from the initial one on. */
  snapshots: AnyMachineSnapshot[];
  /** `undefined` unless the machine finished. */
  output: unknown;
  /** Events the machine emitted. */
  emitted: EventObject[];
  /** What the replay covered. */
  coverage: CoverageTracker;
}

/** A replay that did not go as planned; names the path and the step. */
export class ReplayError extends Error {
  /** Always `'ReplayError'`. */
  override readonly name = 'ReplayError';
  constructor(
    message: string,
    /** The path that failed. */
    readonly path: ModelPath,
    /** The step that failed; `undefined` for the start or the end. */
    readonly step: ModelStep | undefined,
  ) {
    super(`${message}\n  path ${path.name}`);
  }
}

function invokedSources(machine: AnyStateMachine): string[] {
  const sources = new Set<string>();
  const walk = (node: AnyStateNode) => {
    for (const invoke of node.invoke) {
      if (typeof invoke.src !== 'string') {
        throw new Error(
          `run-lifecycle/testing: invoke '${invoke.id}' has inline logic; name it in setup({ actors }) so a replay can replace it`,
        );
      }
      sources.add(invoke.src);
    }
    for (const child of Object.values(node.states ?? {}) as AnyStateNode[]) walk(child);
  };
  walk(machine.root);
  return [...sources];
}

/** `machine` with every invoked actor replaced by a fake that waits for its step and answers as planned. */
export function withFakeActors(machine: AnyStateMachine, script: PathScript): AnyStateMachine {
  const fake = fromPromise<unknown, unknown>(async ({ self, signal }) => {
    // Only this actor's steps: several invoked actors may be waiting at once (parent and child states).
    const { step } = await script.take({ signal, what: `the outcome of '${self.id}'`, invokeId: self.id });
    if (step.kind === 'error') throw (step.event as { error?: unknown }).error;
    return (step.event as { output?: unknown }).output;
  });
  const actors = Object.fromEntries(invokedSources(machine).map((src) => [src, fake]));
  return machine.provide({ actors } as Parameters<AnyStateMachine['provide']>[0]);
}

function sameState(snapshot: AnyMachineSnapshot, planned: PlannedMacrostep): boolean {
  return JSON.stringify(snapshot.value) === JSON.stringify(planned.value) && snapshot.status === planned.status;
}

/** Replays `path` on a real actor of `machine`; throws a {@link ReplayError} at the first difference from the plan. */
export async function replayPath<TScript = unknown>(
  machine: AnyStateMachine,
  path: ModelPath,
  options: ReplayOptions<TScript> = {},
): Promise<ReplayResult> {
  const script: ControlledScript<TScript> = createPathScript<TScript>(path);
  const custom = options.machine !== undefined;
  const underTest = options.machine ? options.machine(script) : withFakeActors(machine, script);
  const input = options.input ? options.input(script) : path.input;
  const compare = options.compare ?? assertComparable;
  const timeoutMs = options.stepTimeoutMs ?? 2_000;
  const coverage = createCoverageTracker(underTest);
  const records: Array<{ event: EventObject; snapshot: AnyMachineSnapshot }> = [];
  let wake: (() => void) | undefined;
  let root: unknown; // eslint-disable-line prefer-const -- set once the actor exists; its inspector runs before
  const early: InspectionEvent[] = [];

  const handle = (event: InspectionEvent) => {
    coverage.observe(event, root);
    if (event.type === '@xstate.snapshot' && event.actorRef === root) {
      records.push({ event: event.event, snapshot: event.snapshot as AnyMachineSnapshot });
      wake?.();
    }
  };
  const actor = createActor(underTest, {
    input,
    inspect: (event) => {
      if (root === undefined) early.push(event);
      else handle(event);
      options.inspect?.(event);
    },
  });
  root = actor;
  for (const event of early.splice(0)) handle(event);
  const emitted: EventObject[] = [];
  actor.on('*', (event: EventObject) => emitted.push(event));
  // A machine that fails is reported through its snapshot, not as an unhandled error.
  actor.subscribe({ error: () => undefined });

  const fail = (message: string, step?: ModelStep): never => {
    throw new ReplayError(message, path, step);
  };
  let read = 0;
  const nextRecord = async (what: string, step?: ModelStep) => {
    const deadline = Date.now() + timeoutMs;
    while (records.length <= read) {
      if (script.failures.length > 0) fail(script.failures.join('; '), step);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const waiting = script.pending();
        const now = actor.getSnapshot() as AnyMachineSnapshot;
        fail(
          `timed out after ${timeoutMs} ms waiting for ${what}; the actor is in ${stateValueText(now.value)} (${now.status})` +
            (waiting.length > 0 ? `, services wait for: ${waiting.join(', ')}` : ''),
          step,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 50));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    return records[read++]!;
  };
  const check = (snapshot: AnyMachineSnapshot, planned: PlannedMacrostep, where: string, step?: ModelStep) => {
    if (!sameState(snapshot, planned)) {
      const error = snapshot.status === 'error' ? ` — ${String((snapshot as { error?: unknown }).error)}` : '';
      fail(
        `${where}: expected ${stateValueText(planned.value)} (${planned.status}), got ${stateValueText(snapshot.value)} (${snapshot.status})${error}`,
        step,
      );
    }
  };

  try {
    actor.start();
    const initial = await nextRecord('the initial snapshot');
    check(initial.snapshot, path.start, 'start');
    for (const step of path.steps) {
      const where = `step ${step.index + 1} (${step.label})`;
      if (step.kind === 'after') {
        // A delayed transition: the actor's own timer raises the event; the replay only waits for it.
      } else if (step.kind !== 'event' || (custom && step.produced)) {
        script.open(step, custom ? step.script : [undefined]);
      } else {
        actor.send(step.event);
      }
      const what =
        step.kind === 'after' ? `${step.eventType} (the actor takes it when its delay '${step.variant}' elapses)` : step.eventType;
      const record = await nextRecord(what, step);
      // The services' own account of a wrong request explains an unexpected event best.
      if (record.event.type !== step.eventType && script.failures.length > 0) fail(`${where}: ${script.failures.join('; ')}`, step);
      if (record.event.type !== step.eventType) fail(`${where}: the machine received ${record.event.type} instead`, step);
      check(record.snapshot, step, where, step);
      const left = script.close();
      if (left.length > 0) fail(`${where}: the services left ${left.length} scripted item(s) unused`, step);
      if (script.failures.length > 0) fail(`${where}: ${script.failures.join('; ')}`, step);
    }
    if (records.length > read) fail(`the machine received ${records[read]!.event.type} after the last step`);
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    const output = snapshot.status === 'done' ? snapshot.output : undefined;
    if (path.end.status === 'done') compare(output, path.end.output, `the output of ${path.name}`);
    compare(emitted, [...path.start.emitted, ...path.steps.flatMap((step) => step.emitted)], `the emitted events of ${path.name}`);
    return { path, snapshots: records.map((record) => record.snapshot), output, emitted, coverage };
  } finally {
    actor.stop();
    script.shutdown();
  }
}
