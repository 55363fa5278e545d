/**
 * Pure planning of a path with the machine's own transition function, so every microstep, transition
 * and emitted event is known before anything runs.
 */
import {
  createActor,
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
  type InspectedMicrostepEvent,
  type StateValue,
} from 'xstate';
import { transitionKey } from './coverage.js';
import type { PlannedMacrostep } from './types.js';

/** A state value as a dotted path (`working.locked.resolving`); parallel regions are joined with `, `. */
export function stateValueText(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, child]) =>
      child === undefined || (typeof child === 'object' && Object.keys(child).length === 0) ? key : `${key}.${stateValueText(child)}`,
    )
    .join(', ');
}

function leafText(node: AnyStateNode): string {
  return node.path.join('.');
}

/** Runs a machine's transition function purely and records what each macrostep did. */
export interface Planner {
  initial(): PlannedMacrostep;
  next(snapshot: AnyMachineSnapshot, event: EventObject): PlannedMacrostep;
}

/** The actor scope is never started: no actor runs and no action executes, except that emitted events are recorded. */
export function createPlanner(machine: AnyStateMachine, input: unknown): Planner {
  let microsteps: InspectedMicrostepEvent[] = [];
  let emitted: EventObject[] = [];
  let root: unknown; // eslint-disable-line prefer-const -- set once the actor exists; its inspector runs before
  const probe = createActor(machine, {
    input,
    inspect: (event) => {
      if (event.type === '@xstate.microstep' && event.actorRef === root) microsteps.push(event);
    },
  });
  root = probe;
  const scope = {
    self: probe,
    id: probe.id,
    sessionId: probe.sessionId,
    logger: () => undefined,
    defer: () => undefined,
    system: probe.system,
    stopChild: () => undefined,
    emit: () => undefined,
    actionExecutor: (action: { type: string; params?: unknown }) => {
      if (action.type === 'xstate.emit') {
        const event = (action.params as { event?: EventObject } | undefined)?.event;
        if (event) emitted.push(event);
      }
    },
  } as unknown as AnyActorScope;

  function record(snapshot: AnyMachineSnapshot, before: string | undefined): PlannedMacrostep {
    const passedThrough: string[] = [];
    const push = (text: string) => {
      if (passedThrough[passedThrough.length - 1] !== text && !(passedThrough.length === 0 && text === before)) passedThrough.push(text);
    };
    const transitions: string[] = [];
    const states = new Set<string>();
    const addNodes = (value: AnyMachineSnapshot) => {
      for (const node of value._nodes as AnyStateNode[]) if (node.parent) states.add(node.id);
    };
    for (const step of microsteps) {
      addNodes(step.snapshot as AnyMachineSnapshot);
      for (const transition of step._transitions) {
        transitions.push(transitionKey(transition));
        const source = transition.source as AnyStateNode;
        if (source.parent) states.add(source.id);
        // Transient states show only as the source of the transition that leaves them.
        if (source.type === 'atomic') push(leafText(source));
      }
      push(stateValueText((step.snapshot as AnyMachineSnapshot).value));
    }
    push(stateValueText(snapshot.value));
    addNodes(snapshot);
    const planned: PlannedMacrostep = {
      snapshot,
      value: snapshot.value,
      status: snapshot.status,
      passedThrough,
      transitions,
      states: [...states],
      emitted,
    };
    microsteps = [];
    emitted = [];
    return planned;
  }

  return {
    initial() {
      microsteps = [];
      emitted = [];
      const snapshot = machine.getInitialSnapshot(scope, input) as AnyMachineSnapshot;
      return record(snapshot, undefined);
    },
    next(snapshot, event) {
      microsteps = [];
      emitted = [];
      const nextSnapshot = machine.transition(snapshot, event, scope) as AnyMachineSnapshot;
      return record(nextSnapshot, stateValueText(snapshot.value));
    },
  };
}
