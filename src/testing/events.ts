/**
 * The events a traversal offers in each snapshot: the state's own, each replaced by its variants
 * (outcomes for done/error events, event variants, else `{ type }`); a delayed transition's event
 * once, as an `after` step the actor takes by itself.
 */
import { __unsafe_getAllOwnEventDescriptors, type AnyMachineSnapshot, type EventObject } from 'xstate';
import type { EventVariant, FromSnapshot, OutcomeVariant } from './types.js';

const DONE = 'xstate.done.actor.';
const ERROR = 'xstate.error.actor.';
const AFTER = 'xstate.after.';

/** What a generated event stands for. */
export interface EventMeta {
  /** `after`: a delayed transition's event; its variant is the delay (`recoveryDelay`, `500`). */
  kind: 'done' | 'error' | 'after' | 'event';
  invokeId: string | undefined;
  variant: string;
  produced: boolean;
  script: readonly unknown[] | FromSnapshot<readonly unknown[]> | undefined;
}

/** Builds the event list of a snapshot and remembers what each generated event stands for. */
export interface EventCatalog {
  eventsFor(snapshot: AnyMachineSnapshot): EventObject[];
  meta(event: EventObject): EventMeta;
  /** Unique per event variant within a snapshot: `type|variant`. */
  serializeEvent(event: EventObject): string;
}

function isErrorVariant(variant: OutcomeVariant): boolean {
  return 'error' in variant;
}

/** Given labels, else `done #n` / `error #n`. */
export function outcomeLabels(variants: readonly OutcomeVariant[]): string[] {
  let done = 0;
  let failed = 0;
  return variants.map((variant) => {
    if (isErrorVariant(variant)) return variant.label ?? `error #${++failed}`;
    return variant.label ?? `done #${++done}`;
  });
}

/** The delay in `xstate.after.<delay>.<state id>`: a delay name or a number of ms, as the machine declares it. */
export function delayOf(type: string, snapshot: AnyMachineSnapshot): string {
  const rest = type.slice(AFTER.length);
  for (const node of snapshot._nodes as Array<{ id: string }>) {
    if (rest.endsWith(`.${node.id}`)) return rest.slice(0, rest.length - node.id.length - 1);
  }
  const dot = rest.indexOf('.');
  return dot === -1 ? rest : rest.slice(0, dot);
}

/** An event catalog for the given outcome and event variants; `filter` can drop any generated event. */
export function createEventCatalog(
  outcomes: Readonly<Record<string, readonly OutcomeVariant[]>>,
  events: Readonly<Record<string, readonly EventVariant[]>>,
  filter: ((snapshot: AnyMachineSnapshot, event: EventObject) => boolean) | undefined,
): EventCatalog {
  const metas = new WeakMap<EventObject, EventMeta>();
  const labels = new Map<string, string[]>();
  for (const [id, variants] of Object.entries(outcomes)) {
    const names = outcomeLabels(variants);
    if (new Set(names).size !== names.length)
      throw new Error(`run-lifecycle/testing: outcome labels of '${id}' must be unique (${names.join(', ')})`);
    labels.set(id, names);
  }

  function add(list: EventObject[], snapshot: AnyMachineSnapshot, event: EventObject, meta: EventMeta): void {
    if (filter && !filter(snapshot, event)) return;
    metas.set(event, meta);
    list.push(event);
  }

  function outcomeEvents(list: EventObject[], snapshot: AnyMachineSnapshot, invokeId: string, kind: 'done' | 'error'): void {
    const variants = outcomes[invokeId] ?? [];
    const names = labels.get(invokeId) ?? [];
    variants.forEach((variant, index) => {
      if (isErrorVariant(variant) !== (kind === 'error')) return;
      if (variant.when && !variant.when(snapshot)) return;
      const event =
        kind === 'error'
          ? { type: `${ERROR}${invokeId}`, error: variant.error, actorId: invokeId }
          : { type: `${DONE}${invokeId}`, output: variant.outputFrom ? variant.outputFrom(snapshot) : variant.output, actorId: invokeId };
      add(list, snapshot, event, { kind, invokeId, variant: names[index]!, produced: true, script: variant.script });
    });
  }

  return {
    eventsFor(snapshot) {
      const list: EventObject[] = [];
      for (const type of __unsafe_getAllOwnEventDescriptors(snapshot) as string[]) {
        if (type.includes('*')) continue;
        if (type.startsWith(DONE)) {
          outcomeEvents(list, snapshot, type.slice(DONE.length), 'done');
        } else if (type.startsWith(ERROR)) {
          outcomeEvents(list, snapshot, type.slice(ERROR.length), 'error');
        } else if (type.startsWith(AFTER)) {
          // The actor raises it itself when the delay elapses: nothing to send, nothing to script.
          add(
            list,
            snapshot,
            { type },
            { kind: 'after', invokeId: undefined, variant: delayOf(type, snapshot), produced: true, script: [] },
          );
        } else if (events[type]) {
          for (const variant of events[type]) {
            if (variant.when && !variant.when(snapshot)) continue;
            const event = typeof variant.event === 'function' ? variant.event(snapshot) : (variant.event ?? { type });
            add(list, snapshot, event, {
              kind: 'event',
              invokeId: undefined,
              variant: variant.label ?? type,
              produced: variant.produced === true,
              script: variant.script,
            });
          }
        } else {
          add(list, snapshot, { type }, { kind: 'event', invokeId: undefined, variant: type, produced: false, script: undefined });
        }
      }
      return list;
    },
    meta(event) {
      const meta = metas.get(event);
      if (!meta) throw new Error(`run-lifecycle/testing: no variant recorded for event ${event.type}`);
      return meta;
    },
    serializeEvent(event) {
      return `${event.type}|${metas.get(event)?.variant ?? JSON.stringify(event)}`;
    },
  };
}
