/**
 * Path generation with `xstate/graph`: simple (optional) and shortest paths from every input, then
 * one extra path for every traversal edge that reaches an uncovered transition, state or event
 * variant, each completed to a complete state and planned with the machine's own transition function.
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
import { createEventCatalog, type EventCatalog } from './events.js';
import { createPlanner, stateValueText, type Planner } from './plan.js';
import type { EventVariant, ModelPath, ModelStep, OutcomeVariant, PlannedMacrostep } from './types.js';

/** Options of {@link generatePaths}, all resolved (see `PathModelOptions`). */
export interface GenerateOptions {
  inputs: Readonly<Record<string, unknown>>;
  outcomes: Readonly<Record<string, readonly OutcomeVariant[]>>;
  events: Readonly<Record<string, readonly EventVariant[]>>;
  filter: ((snapshot: AnyMachineSnapshot, event: EventObject) => boolean) | undefined;
  paths: 'shortest' | 'simple';
  isComplete: (snapshot: AnyMachineSnapshot) => boolean;
  serialize: (snapshot: AnyMachineSnapshot) => unknown;
  limit: number;
  scenarios: readonly Scenario[];
}

/** A path to include as told: an input label and step labels (`GET_RUN: plain`, `done: user`), completed to a complete state. */
export interface Scenario {
  /** The input label. */
  input: string;
  /** Step labels in order (`GET_RUN: plain`, `done: user`). */
  steps: readonly string[];
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  if (typeof Headers !== 'undefined' && value instanceof Headers) return '[Headers]';
  if (value instanceof Error) {
    const { type, status } = value as Error & { type?: unknown; status?: unknown };
    return { name: value.name, message: value.message, type, status };
  }
  return value;
}

/** The default traversal view of a snapshot: value, status and context without `services`. */
export function defaultSerialize(snapshot: AnyMachineSnapshot): unknown {
  const context = snapshot.context;
  if (context === null || typeof context !== 'object') return { value: snapshot.value, status: snapshot.status, context };
  const { services: _services, ...rest } = context as Record<string, unknown>;
  return { value: snapshot.value, status: snapshot.status, context: rest };
}

/** The traversal graph: serialized state → its snapshot and its edges by serialized event. */
type Adjacency = Record<
  string,
  { state: AnyMachineSnapshot; transitions: Record<string, { event: EventObject; state: AnyMachineSnapshot }> }
>;

type GraphOptions = NonNullable<Parameters<typeof getShortestPaths<AnyStateMachine>>[1]>;

interface Candidate {
  events: EventObject[];
  path: Omit<ModelPath, 'id' | 'name'>;
}

function describe(start: PlannedMacrostep, steps: readonly ModelStep[]): string {
  const parts = [start.passedThrough.join(' → ')];
  for (const step of steps) {
    parts.push(`(${step.label})`);
    if (step.passedThrough.length > 0) parts.push(`→ ${step.passedThrough.join(' → ')}`);
  }
  return parts.join(' ');
}

function stepLabel(kind: ModelStep['kind'], eventType: string, variant: string): string {
  if (kind !== 'event') return `${kind}: ${variant}`;
  return variant === eventType ? eventType : `${eventType}: ${variant}`;
}

function planPath(
  planner: Planner,
  catalog: EventCatalog,
  events: readonly EventObject[],
  inputLabel: string,
  input: unknown,
  isComplete: GenerateOptions['isComplete'],
): Omit<ModelPath, 'id' | 'name'> {
  const start = planner.initial();
  const steps: ModelStep[] = [];
  let before = start.snapshot;
  events.forEach((event, index) => {
    const meta = catalog.meta(event);
    const script = typeof meta.script === 'function' ? meta.script(before) : (meta.script ?? [undefined]);
    const planned = planner.next(before, event);
    steps.push({
      ...planned,
      index,
      event,
      eventType: event.type,
      kind: meta.kind,
      invokeId: meta.invokeId,
      variant: meta.variant,
      label: stepLabel(meta.kind, event.type, meta.variant),
      produced: meta.produced,
      script,
    });
    before = planned.snapshot;
  });
  const last = steps[steps.length - 1] ?? start;
  return {
    description: describe(start, steps),
    inputLabel,
    input,
    start,
    steps,
    end: { ...last, output: last.snapshot.status === 'done' ? last.snapshot.output : undefined, complete: isComplete(last.snapshot) },
  };
}

function coverageItems(macrostep: PlannedMacrostep): string[] {
  return [...macrostep.states.map((id) => `S:${id}`), ...macrostep.transitions.map((key) => `T:${key}`)];
}

function pathItems(path: Omit<ModelPath, 'id' | 'name'>, catalog: EventCatalog): string[] {
  const items = coverageItems(path.start);
  let before = path.start.value;
  for (const step of path.steps) {
    items.push(...coverageItems(step), `V:${stateValueText(before)}|${catalog.serializeEvent(step.event)}`);
    before = step.value;
  }
  return items;
}

/** Distance (in events) from every traversal state to the nearest complete state. */
function distancesToComplete(
  adjacency: Adjacency,
  key: (s: AnyMachineSnapshot) => string,
  isComplete: GenerateOptions['isComplete'],
): Map<string, number> {
  const reverse = new Map<string, string[]>();
  for (const [from, entry] of Object.entries(adjacency)) {
    for (const { state } of Object.values(entry.transitions)) {
      const to = key(state);
      reverse.set(to, [...(reverse.get(to) ?? []), from]);
    }
  }
  const distance = new Map<string, number>();
  const queue: string[] = [];
  for (const [from, entry] of Object.entries(adjacency)) {
    if (isComplete(entry.state)) {
      distance.set(from, 0);
      queue.push(from);
    }
  }
  for (let head = 0; head < queue.length; head += 1) {
    const current = queue[head]!;
    for (const previous of reverse.get(current) ?? []) {
      if (!distance.has(previous)) {
        distance.set(previous, distance.get(current)! + 1);
        queue.push(previous);
      }
    }
  }
  return distance;
}

function completion(
  adjacency: Adjacency,
  from: string,
  distance: Map<string, number>,
  key: (s: AnyMachineSnapshot) => string,
): EventObject[] {
  const events: EventObject[] = [];
  let current = from;
  while ((distance.get(current) ?? 0) > 0) {
    const wanted = distance.get(current)! - 1;
    const next = Object.values(adjacency[current]?.transitions ?? {}).find(({ state }) => distance.get(key(state)) === wanted);
    if (!next) break;
    events.push(next.event);
    current = key(next.state);
  }
  return events;
}

function sequenceKey(events: readonly EventObject[], catalog: EventCatalog): string[] {
  return events.map((event) => catalog.serializeEvent(event));
}

function generateForInput(machine: AnyStateMachine, inputLabel: string, input: unknown, options: GenerateOptions): Candidate[] {
  const catalog = createEventCatalog(options.outcomes, options.events, options.filter);
  const key = (snapshot: AnyMachineSnapshot) => JSON.stringify(options.serialize(snapshot), jsonReplacer);
  const traversal = {
    input,
    events: (snapshot: AnyMachineSnapshot) => catalog.eventsFor(snapshot),
    serializeState: key,
    serializeEvent: (event: EventObject) => catalog.serializeEvent(event),
    limit: options.limit,
  };
  const planner = createPlanner(machine, input);
  const covered = new Set<string>();
  const chosen: Candidate[] = [];
  const choose = (events: EventObject[]) => {
    const path = planPath(planner, catalog, events, inputLabel, input, options.isComplete);
    for (const item of pathItems(path, catalog)) covered.add(item);
    chosen.push({ events, path });
  };

  if (options.paths === 'simple') {
    for (const simple of getSimplePaths(machine, { ...traversal, toState: options.isComplete } as GraphOptions)) {
      choose(simple.steps.slice(1).map((step) => step.event as EventObject));
    }
  }

  const shortest = getShortestPaths(machine, traversal as GraphOptions);
  const shortestTo = new Map<string, EventObject[]>();
  for (const path of shortest)
    shortestTo.set(
      key(path.state as AnyMachineSnapshot),
      path.steps.slice(1).map((step) => step.event as EventObject),
    );
  const adjacency = getAdjacencyMap(machine, traversal as GraphOptions) as unknown as Adjacency;
  const distance = distancesToComplete(adjacency, key, options.isComplete);
  const byDepth = [...shortestTo.entries()].sort((a, b) => a[1].length - b[1].length);

  for (const scenario of options.scenarios.filter((candidate) => candidate.input === inputLabel)) {
    const events: EventObject[] = [];
    let snapshot = planner.initial().snapshot;
    for (const wanted of scenario.steps) {
      const offered = catalog.eventsFor(snapshot);
      const event = offered.find((candidate) => {
        const meta = catalog.meta(candidate);
        return stepLabel(meta.kind, candidate.type, meta.variant) === wanted;
      });
      if (!event) {
        const labels = offered.map((candidate) => stepLabel(catalog.meta(candidate).kind, candidate.type, catalog.meta(candidate).variant));
        throw new Error(
          `run-lifecycle/testing: scenario [${inputLabel}] ${scenario.steps.join(' → ')}: '${wanted}' is not offered in ${stateValueText(snapshot.value)} (offered: ${labels.join(', ') || 'nothing'})`,
        );
      }
      events.push(event);
      snapshot = planner.next(snapshot, event).snapshot;
    }
    choose([...events, ...completion(adjacency, key(snapshot), distance, key)]);
  }
  if (chosen.length === 0) choose(completion(adjacency, key(planner.initial().snapshot), distance, key));
  // Cover phase: every edge (shallowest states first) that reaches something no chosen path has yet
  // becomes a path: the shortest path to its source, the edge, then the shortest way to a complete state.
  for (const [from, prefix] of byDepth) {
    const entry = adjacency[from];
    if (!entry) continue;
    for (const { event, state } of Object.values(entry.transitions)) {
      const planned = planner.next(entry.state, event);
      const items = [...coverageItems(planned), `V:${stateValueText(entry.state.value)}|${catalog.serializeEvent(event)}`];
      if (items.every((item) => covered.has(item))) continue;
      choose([...prefix, event, ...completion(adjacency, key(state), distance, key)]);
    }
  }

  // A lossy `serialize` must not merge states that behave differently.
  for (const { path, events } of chosen) {
    let before = key(path.start.snapshot);
    path.steps.forEach((step, index) => {
      const expected = adjacency[before]?.transitions[catalog.serializeEvent(events[index]!)];
      const after = key(step.snapshot);
      if (!expected || key(expected.state) !== after) {
        throw new Error(
          `run-lifecycle/testing: path "${path.description}" diverges from the traversal graph at step ${index + 1} (${step.label}); ` +
            'the serialize option merges snapshots that behave differently',
        );
      }
      before = after;
    });
  }

  const keys = chosen.map(({ events }) => sequenceKey(events, catalog));
  const prefixes = new Set<string>();
  for (const parts of keys) for (let length = 0; length < parts.length; length += 1) prefixes.add(JSON.stringify(parts.slice(0, length)));
  const seen = new Set<string>();
  return chosen.filter((_, index) => {
    const whole = JSON.stringify(keys[index]);
    if (prefixes.has(whole) || seen.has(whole)) return false;
    seen.add(whole);
    return true;
  });
}

/** Generates and plans the paths of `machine` for every input (see the module comment). */
export function generatePaths(machine: AnyStateMachine, options: GenerateOptions): ModelPath[] {
  const paths: ModelPath[] = [];
  for (const scenario of options.scenarios) {
    if (!(scenario.input in options.inputs))
      throw new Error(`run-lifecycle/testing: a scenario names the unknown input '${scenario.input}'`);
  }
  for (const [inputLabel, input] of Object.entries(options.inputs)) {
    for (const { path } of generateForInput(machine, inputLabel, input, options)) {
      const id = paths.length;
      paths.push({ ...path, id, name: `#${id} [${inputLabel}] ${path.description}` });
    }
  }
  return paths;
}
