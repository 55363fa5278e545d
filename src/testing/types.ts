/** Types of `run-lifecycle/testing`: outcome variants, generated paths and the script a replay hands to the services. */
import type { AnyEventObject, AnyMachineSnapshot, EventObject, StateValue } from 'xstate';

/** A value computed from the snapshot where it is needed (where the actor runs or the event is offered). */
export type FromSnapshot<T> = (snapshot: AnyMachineSnapshot) => T;

/**
 * One way an invoked actor can end: `xstate.done.actor.<id>` with `output`, or
 * `xstate.error.actor.<id>` with `error`. A variant with neither is a `done` with `output: undefined`.
 */
export interface OutcomeVariant<TScript = unknown> {
  /** Names the outcome in path descriptions (`done: found`); default `done #n` / `error #n`. Unique per actor. */
  label?: string;
  /** The actor's output, for a `done` outcome. */
  output?: unknown;
  /** The actor's output computed from the snapshot where it runs (when it depends on context). */
  outputFrom?: FromSnapshot<unknown>;
  /** Makes this an `error` outcome. */
  error?: unknown;
  /** Offer this outcome only where it can really happen. */
  when?: (snapshot: AnyMachineSnapshot) => boolean;
  /** What your own services consume to produce this outcome, in order (e.g. scripted HTTP responses); default `[undefined]`. */
  script?: readonly TScript[] | FromSnapshot<readonly TScript[]>;
}

/** One variant of an ordinary event (`GET_RUN`, `LOCK_ACQUIRED`, …). */
export interface EventVariant<TScript = unknown> {
  /** Names the event in path descriptions; default the event type. Unique per event type. */
  label?: string;
  /** The event; default `{ type }`. */
  event?: AnyEventObject | FromSnapshot<AnyEventObject>;
  /**
   * True when the system under test raises this event itself (e.g. a callback actor's `sendBack`): a
   * replay with your own services releases its `script` instead of sending it.
   */
  produced?: boolean;
  /** Offer this variant only where it can really happen. */
  when?: (snapshot: AnyMachineSnapshot) => boolean;
  /** What your own services consume to produce this event, in order. */
  script?: readonly TScript[] | FromSnapshot<readonly TScript[]>;
}

/** One planned macrostep: the states passed through and the stable snapshot reached. */
export interface PlannedMacrostep {
  /** The stable snapshot reached. */
  snapshot: AnyMachineSnapshot;
  /** Its state value. */
  value: StateValue;
  /** Its status (`active`, `done`, …). */
  status: AnyMachineSnapshot['status'];
  /** States entered on the way, as dotted paths, transient ones included, ending with the stable one(s). */
  passedThrough: string[];
  /** Keys of the transitions taken (see `transitionKey`). */
  transitions: string[];
  /** Ids of the state nodes active in any microstep or left by a transition (the coverage rule). */
  states: string[];
  /** Events the machine emitted on the way. */
  emitted: EventObject[];
}

/** One step of a path: the event, where it comes from, and what it leads to. */
export interface ModelStep extends PlannedMacrostep {
  /** Position in the path, from 0. */
  index: number;
  /** The event sent, or expected from the system under test. */
  event: EventObject;
  /** The event's type. */
  eventType: string;
  /**
   * `after` is a delayed transition's event, which the actor raises itself (the replay waits for it,
   * never sends it); `done` / `error` an invoked actor's end; `event` any other.
   */
  kind: 'done' | 'error' | 'after' | 'event';
  /** The invoked actor a `done`/`error` step ends. */
  invokeId: string | undefined;
  /** The variant's label (`empty`, `503`, `join`; for an `after` step, the delay: `recoveryDelay`). */
  variant: string;
  /** Readable: `done: empty`, `error: 503`, `after: recoveryDelay`, `GET_RUN: join`. */
  label: string;
  /** True when the system under test produces the event (done/error, after, or a `produced` variant). */
  produced: boolean;
  /** The variant's script items, resolved against the snapshot before the step. */
  script: readonly unknown[];
}

/** A generated path: an input, the initial macrostep, then steps, each with the state it must reach. */
export interface ModelPath {
  /** Unique per model, from 1. */
  id: number;
  /** `#id [input] description`: unique, for test names. */
  name: string;
  /** E.g. `checkingSession → fetchingLatest (done: empty) → creating (done: created) → ready`. */
  description: string;
  /** The label of the input the path starts from (`getRun`, `reset`, …). */
  inputLabel: string;
  /** That input. */
  input: unknown;
  /** The initial macrostep. */
  start: PlannedMacrostep;
  /** The steps, in order. */
  steps: ModelStep[];
  /** The last macrostep, with the machine's `output` and whether the path is `complete`. */
  end: PlannedMacrostep & { output: unknown; complete: boolean };
}

/** One item a replay hands to the services under test. */
export interface ScriptTake<TScript = unknown> {
  /** The script item to answer with. */
  item: TScript;
  /** The step it belongs to. */
  step: ModelStep;
}

/** The script of one replay: services under test call `take()` to learn what to answer next. */
export interface PathScript<TScript = unknown> {
  /** The path being replayed. */
  readonly path: ModelPath;
  /**
   * Waits until the replay reaches a step the services must produce, then hands over its next item
   * (only that actor's with `invokeId`). Rejects when `signal` aborts or the replay ends.
   */
  take(options?: { signal?: AbortSignal; what?: string; invokeId?: string }): Promise<ScriptTake<TScript>>;
  /** Records a mismatch (e.g. an unexpected request); the replay fails with it. */
  fail(message: string): void;
}
