/**
 * Types of the model-based testing helper (`run-lifecycle/testing`): outcome variants, generated
 * paths and their steps, and the script a replay hands to the services under test.
 */
import type { AnyEventObject, AnyMachineSnapshot, EventObject, StateValue } from 'xstate';

/**
 * A value, or a function of the snapshot in which it is needed (the state where the actor runs or
 * the event is offered).
 *
 * @example
 * ```ts
 * const output: FromSnapshot<Run> = (snapshot) => ({ ...snapshot.context.run, saved: true });
 * ```
 */
export type FromSnapshot<T> = (snapshot: AnyMachineSnapshot) => T;

/**
 * One way an invoked actor can end: `xstate.done.actor.<id>` with `output`, or
 * `xstate.error.actor.<id>` with `error`. A variant with neither is a `done` with `output: undefined`.
 *
 * @example
 * ```ts
 * const outcomes: Record<string, OutcomeVariant[]> = {
 *   loadRun: [
 *     { label: 'found', output: { id: 'r1' } },
 *     { label: 'gone', error: new RunManagerError('RUN_NOT_FOUND', 'gone', { status: 404 }) },
 *   ],
 * };
 * ```
 */
export interface OutcomeVariant<TScript = unknown> {
  /** Names the outcome in path descriptions (`done: found`); default `done #n` / `error #n`. Unique per actor. */
  label?: string;
  /** The actor's output (for a `done` outcome). */
  output?: unknown;
  /** The actor's output computed from the snapshot where it runs (when it depends on context). */
  outputFrom?: FromSnapshot<unknown>;
  /** The actor's error (makes this an `error` outcome). */
  error?: unknown;
  /** Offer this outcome only where it can really happen. */
  when?: (snapshot: AnyMachineSnapshot) => boolean;
  /**
   * What the services under test consume to produce this outcome, in order (e.g. the HTTP
   * responses a scripted server sends). Only used when you replay with your own services;
   * default: one item, `undefined`.
   */
  script?: readonly TScript[] | FromSnapshot<readonly TScript[]>;
}

/**
 * One variant of an ordinary event (`GET_RUN`, `LOCK_ACQUIRED`, …).
 *
 * @example
 * ```ts
 * const events: Record<string, EventVariant[]> = {
 *   GET_RUN: [{ label: 'with price', event: { type: 'GET_RUN', requestId: 2, variables: ['price'] } }],
 * };
 * ```
 */
export interface EventVariant<TScript = unknown> {
  /** Names the event in path descriptions; default the event type. Unique per event type. */
  label?: string;
  /** The event; default `{ type }`. */
  event?: AnyEventObject | FromSnapshot<AnyEventObject>;
  /**
   * True when the system under test raises this event itself (e.g. a callback actor's `sendBack`):
   * a replay with your own services releases its `script` instead of sending it. A replay with
   * in-memory fakes sends it.
   */
  produced?: boolean;
  /** Offer this event only in snapshots where this returns true. */
  when?: (snapshot: AnyMachineSnapshot) => boolean;
  /** What the services consume to produce a `produced` event (see {@link OutcomeVariant.script}). */
  script?: readonly TScript[] | FromSnapshot<readonly TScript[]>;
}

/**
 * One macrostep the path plans: the state(s) passed through and the stable snapshot reached.
 *
 * @example
 * ```ts
 * const { value, passedThrough, transitions }: PlannedMacrostep = path.start;
 * ```
 */
export interface PlannedMacrostep {
  /** The stable snapshot after the macrostep, as planned (pure transitions, no actor). */
  snapshot: AnyMachineSnapshot;
  value: StateValue;
  status: AnyMachineSnapshot['status'];
  /** States entered on the way, as dotted paths, transient ones included, ending with the stable one(s). */
  passedThrough: string[];
  /** Keys of the transitions taken (see `transitionKey`). */
  transitions: string[];
  /** Ids of the state nodes active in any microstep or left by a transition (the coverage rule). */
  states: string[];
  /** Events the machine emits (`emit`, `enqueue.emit`) during the macrostep. */
  emitted: EventObject[];
}

/**
 * One step of a path: the event, where it comes from, and what it leads to.
 *
 * @example
 * ```ts
 * for (const step of path.steps) console.log(step.label, '→', step.value);
 * ```
 */
export interface ModelStep extends PlannedMacrostep {
  index: number;
  event: EventObject;
  eventType: string;
  /**
   * `done` / `error` for an invoked actor's end; `after` for a delayed transition's event
   * (`xstate.after.<delay>.<state id>`), which the actor raises itself when the delay elapses (the
   * replay waits for it, it never sends it); `event` for any other event.
   */
  kind: 'done' | 'error' | 'after' | 'event';
  /** The invoke id for `done` / `error` steps. */
  invokeId: string | undefined;
  /** The variant's label (`empty`, `503`, `join`; the delay for an `after` step: `recoveryDelay`). */
  variant: string;
  /** Readable: `done: empty`, `error: 503`, `after: recoveryDelay`, `GET_RUN: join`. */
  label: string;
  /** True when the system under test produces the event (done/error, after, or a `produced` variant). */
  produced: boolean;
  /** The variant's script items, resolved against the snapshot before the step (none for `after`). */
  script: readonly unknown[];
}

/**
 * A generated path: an input, the initial macrostep, then steps, each with the state it must reach.
 *
 * @example
 * ```ts
 * for (const path of model.paths) it(path.name, () => model.replay(path));
 * ```
 */
export interface ModelPath {
  /** Position in `model.paths`, from 0. */
  id: number;
  /** `#id [input] description`: unique, for test names. */
  name: string;
  /** E.g. `checkingSession → fetchingLatest (done: empty) → creating (done: created) → ready`. */
  description: string;
  inputLabel: string;
  input: unknown;
  start: PlannedMacrostep;
  steps: ModelStep[];
  /** The last planned macrostep, with the machine output when it is done, and whether it is complete. */
  end: PlannedMacrostep & { output: unknown; complete: boolean };
}

/**
 * One item a replay hands to the services under test.
 *
 * @example
 * ```ts
 * const { item, step } = await script.take({ what: `${req.method} ${req.url}` });
 * ```
 */
export interface ScriptTake<TScript = unknown> {
  item: TScript;
  step: ModelStep;
}

/**
 * The script of one replay: services under test call `take()` to learn, when the path gets there,
 * what to answer next.
 *
 * @example
 * ```ts
 * const handler = async (request) => {
 *   const { item } = await script.take({ what: `${request.method} ${request.url}` });
 *   return item.response;
 * };
 * ```
 */
export interface PathScript<TScript = unknown> {
  readonly path: ModelPath;
  /**
   * Waits until the replay reaches a step the services must produce, then hands over that step's
   * next item (first come, first served; with `invokeId`, only items of that actor's steps).
   * Rejects when `signal` aborts or the replay ends. `what` names the caller in timeout messages.
   */
  take(options?: { signal?: AbortSignal; what?: string; invokeId?: string }): Promise<ScriptTake<TScript>>;
  /** Records a mismatch (e.g. an unexpected request); the replay fails with it. */
  fail(message: string): void;
}
