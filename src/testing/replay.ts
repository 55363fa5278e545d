/**
 * Replays one generated path on a real actor and checks, event by event, that the machine reaches
 * every planned state, ends with the planned output and emits the planned events.
 *
 * Ordinary events are sent by the replay. Everything the system under test produces (an invoked
 * actor's done/error, `produced` events) is released through the path's script when the path gets
 * there: by default every invoked actor is replaced by an in-memory fake that answers with the
 * planned outcome; with `machine`, your own services call `script.take()` and answer themselves.
 * A delayed transition (`after` step) is neither sent nor scripted: the replay waits for the actor
 * to take it when its delay elapses, so delays must be shorter than `stepTimeoutMs` — give a
 * machine with short delays (`machine.provide({ delays: { retryDelay: 1 } })`), to the model or
 * through `machine`.
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

/**
 * Options of a replay.
 *
 * @example
 * ```ts
 * await model.replay(path, { machine: () => myMachine, input: (script) => ({ ...script.path.input as object, services: live(script) }) });
 * ```
 */
export interface ReplayOptions<TScript = unknown> {
  /**
   * The machine to run, wired to your own services, which call `script.take()` to learn what to
   * answer. Default: the model's machine with every invoked actor replaced by an in-memory fake.
   */
  machine?: (script: PathScript<TScript>) => AnyStateMachine;
  /** The actor's input (default: the path's input). */
  input?: (script: PathScript<TScript>) => unknown;
  /** How long to wait for each step, in ms (default 2000); an `after` step's delay must fit in it. */
  stepTimeoutMs?: number;
  /** Compares produced and planned values; throws when they differ (default: `assertComparable`). */
  compare?: (actual: unknown, expected: unknown, what: string) => void;
  /** Sees every inspection event of the replayed actor system. */
  inspect?: (event: InspectionEvent) => void;
}

/**
 * What a replay saw.
 *
 * @example
 * ```ts
 * const { snapshots, output } = await model.replay(path);
 * ```
 */
export interface ReplayResult {
  path: ModelPath;
  /** The actor's stable snapshots, from the initial one on. */
  snapshots: AnyMachineSnapshot[];
  /** The machine's output (`undefined` unless it finished). */
  output: unknown;
  /** The events the machine emitted. */
  emitted: EventObject[];
  /** States and transitions this replay covered (from `@xstate.microstep` inspection events). */
  coverage: CoverageTracker;
}

/**
 * A replay that did not go as planned: names the path and the step.
 *
 * @example
 * ```ts
 * try { await model.replay(path); } catch (error) { if (error instanceof ReplayError) console.log(error.step?.label); }
 * ```
 */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    message: string,
    readonly path: ModelPath,
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

/**
 * `machine` with every invoked actor replaced by a fake that waits for its step of the path and
 * answers with the planned output or error.
 *
 * @example
 * ```ts
 * const machineUnderTest = withFakeActors(machine, script);
 * ```
 */
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

/**
 * Replays `path` on a real actor of `machine` (see the module comment); throws a
 * {@link ReplayError} at the first difference from the plan.
 *
 * @example
 * ```ts
 * const result = await replayPath(machine, path);
 * ```
 */
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
  let root: unknown;
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
