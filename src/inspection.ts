/**
 * Inspection without secrets. XState's inspection events carry live objects (actors, snapshots with
 * the whole context: HTTP clients, the session, runs), so the sanitizer builds a new plain event
 * and never touches the live one:
 *
 * - `services` becomes `'[services]'`, a function `'[function name]'`, a class instance other than
 *   Array, Date and RunManagerError `'[ClassName]'` (actor refs keep XState's `{ xstate$$type: 1, id }`);
 * - the value of any key naming a credential (`token`, `authorization`, `password`, `cookie`, …,
 *   also inside longer names like `refreshToken`) and every occurrence of a current bearer token
 *   in a string become `'[redacted]'`; cycles become `'[circular]'`, deep values `'[depth limit]'`.
 *
 * `actorRef` and `sourceRef` become read-only views whose `getSnapshot()` is sanitized too:
 * `@statelyai/inspect` serializes `actorRef.getSnapshot()`, so the real actor would ship its context.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { describeThrown, RunManagerError } from './errors.js';
import { handleRejection } from './services/values.js';

export const REDACTED = '[redacted]';

/** Options of {@link createSanitizedInspector} (and of the sanitizer behind `inspect` and the trace recorder). */
export interface SanitizeOptions {
  /** The current secrets (bearer tokens), read for every event; each occurrence in a string is redacted. */
  secrets?: () => readonly (string | undefined | null)[];
  /** Nesting counted from the event below which values are cut; default 12. */
  maxDepth?: number;
}

/** An inspection observer, as XState's `inspect` option takes it. */
export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Matched anywhere in the key, any case. */
const SECRET_KEY = /token|authori[sz]ation|passw(or)?d|secret|cookie|api[-_]?key|credential|private[-_]?key/i;
/** Machinery, not data (XState's own `toJSON` leaves them out too). */
const SNAPSHOT_INTERNALS = new Set(['machine', '_nodes', 'getMeta', 'toJSON', 'can', 'hasTag', 'matches']);

interface Walk {
  secrets: string[];
  maxDepth: number;
  ancestors: Set<object>;
}

type Unknown = Record<string, unknown>;

function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  return result;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  // Another realm's Object.prototype (an iframe's) also has a null prototype.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function isActorRef(value: Unknown): boolean {
  return typeof value.send === 'function' && typeof value.getSnapshot === 'function' && typeof value.sessionId === 'string';
}

function isMachineSnapshot(value: Unknown): boolean {
  return 'machine' in value && Array.isArray(value._nodes) && typeof value.status === 'string';
}

function className(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

function read(source: Unknown, key: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: source[key] };
  } catch {
    return { ok: false };
  }
}

function describeStateNode(node: unknown): { id: string; key: string; path: string[] } | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const { id, key, path } = node as { id?: unknown; key?: unknown; path?: unknown };
  return {
    id: String(id),
    key: String(key),
    path: Array.isArray(path) ? path.map(String) : [],
  };
}

function cleanEntries(source: Unknown, depth: number, walk: Walk, skip?: Set<string>): Unknown {
  const out: Unknown = {};
  for (const rawKey of Object.keys(source)) {
    if (skip?.has(rawKey)) continue;
    const key = redactText(rawKey, walk.secrets);
    const entry = read(source, rawKey);
    if (!entry.ok) out[key] = '[unreadable]';
    else if (rawKey === 'services' && entry.value !== undefined) out[key] = '[services]';
    else if (SECRET_KEY.test(rawKey) && entry.value !== undefined && entry.value !== null) out[key] = REDACTED;
    else out[key] = cleanValue(entry.value, depth + 1, walk);
  }
  return out;
}

function cleanSnapshotObject(snapshot: Unknown, depth: number, walk: Walk): Unknown {
  const out = cleanEntries(snapshot, depth, walk, new Set([...SNAPSHOT_INTERNALS, 'tags', 'children', 'historyValue']));
  if (snapshot.tags instanceof Set || Array.isArray(snapshot.tags))
    out.tags = [...snapshot.tags].map((tag) => cleanValue(tag, depth + 1, walk));
  if (snapshot.children && typeof snapshot.children === 'object') out.children = cleanValue(snapshot.children, depth + 1, walk);
  if (snapshot.historyValue && typeof snapshot.historyValue === 'object') {
    const history: Unknown = {};
    for (const [key, nodes] of Object.entries(snapshot.historyValue as Unknown)) {
      history[redactText(key, walk.secrets)] = Array.isArray(nodes) ? nodes.map((node) => describeStateNode(node)?.id) : [];
    }
    out.historyValue = history;
  }
  return out;
}

function cleanValue(value: unknown, depth: number, walk: Walk): unknown {
  switch (typeof value) {
    case 'string':
      return redactText(value, walk.secrets);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return redactText(value.toString(), walk.secrets);
    case 'function':
      return redactText(`[function ${value.name || 'anonymous'}]`, walk.secrets);
  }
  if (value === null) return null;
  const object = value as Unknown;
  if (walk.ancestors.has(object)) return '[circular]';
  if (depth > walk.maxDepth) return '[depth limit]';
  walk.ancestors.add(object);
  try {
    if (object instanceof Date) return new Date(object.getTime());
    if (object instanceof RunManagerError) {
      const error: Unknown = { name: object.name, type: object.type, message: redactText(object.message, walk.secrets) };
      if (object.status !== undefined) error.status = object.status;
      if (object.cause !== undefined) error.cause = cleanValue(object.cause, depth + 1, walk);
      return error;
    }
    if (Array.isArray(object)) return Array.from(object, (item) => cleanValue(item, depth + 1, walk));
    if (isActorRef(object)) return { xstate$$type: 1, id: cleanValue(object.id, depth + 1, walk) };
    if (!isPlainObject(object)) return redactText(`[${className(object)}]`, walk.secrets);
    if (isMachineSnapshot(object)) return cleanSnapshotObject(object, depth, walk);
    return cleanEntries(object, depth, walk);
  } finally {
    walk.ancestors.delete(object);
  }
}

/** A machine definition as inspectors draw it: functions become `{ type: name }` (as `@statelyai/inspect` does), `context` is sanitized. */
function cleanDefinition(value: unknown, depth: number, walk: Walk): unknown {
  if (typeof value === 'function') return { type: redactText(value.name, walk.secrets) };
  if (!value || typeof value !== 'object') return cleanValue(value, depth, walk);
  const object = value as Unknown;
  if (walk.ancestors.has(object)) return '[circular]';
  if (depth > 64) return '[depth limit]';
  if (!Array.isArray(object) && !isPlainObject(object)) return cleanValue(object, depth, walk);
  walk.ancestors.add(object);
  try {
    if (Array.isArray(object)) return Array.from(object, (item) => cleanDefinition(item, depth + 1, walk));
    const out: Unknown = {};
    for (const key of Object.keys(object)) {
      const entry = read(object, key);
      out[redactText(key, walk.secrets)] = !entry.ok
        ? '[unreadable]'
        : key === 'context' && typeof entry.value !== 'function'
          ? cleanValue(entry.value, 1, walk)
          : cleanDefinition(entry.value, depth + 1, walk);
    }
    return out;
  } finally {
    walk.ancestors.delete(object);
  }
}

function startWalk(options: SanitizeOptions): Walk {
  const secrets = (options.secrets?.() ?? [])
    .filter((secret): secret is string => typeof secret === 'string' && secret !== '')
    .sort((a, b) => b.length - a.length);
  return { secrets: [...new Set(secrets)], maxDepth: options.maxDepth ?? 12, ancestors: new Set() };
}

/** A sanitized copy of any value (context, event, output). */
export function sanitizeValue(value: unknown, options: SanitizeOptions = {}): unknown {
  return cleanValue(value, 0, startWalk(options));
}

/** A sanitized plain copy of an actor snapshot, without XState's methods. */
export function sanitizeSnapshot(snapshot: unknown, options: SanitizeOptions = {}): unknown {
  return cleanSnapshot(snapshot, startWalk(options));
}

function cleanSnapshot(snapshot: unknown, walk: Walk): unknown {
  if (!snapshot || typeof snapshot !== 'object' || !isPlainObject(snapshot)) return cleanValue(snapshot, 1, walk);
  walk.ancestors.add(snapshot);
  try {
    return cleanSnapshotObject(snapshot as Unknown, 1, walk);
  } finally {
    walk.ancestors.delete(snapshot);
  }
}

/** A read-only view of an actor for inspectors; see the module comment. */
interface InspectedActorRef {
  readonly id: string;
  readonly sessionId: string;
  readonly src: string | undefined;
  readonly _parent: InspectedActorRef | undefined;
  readonly logic: { readonly config: unknown };
  send(event: unknown): void;
  getSnapshot(): unknown;
  toJSON(): { xstate$$type: 1; id: string };
}

type ViewCache = WeakMap<object, InspectedActorRef>;

function viewOf(actor: unknown, options: SanitizeOptions, cache: ViewCache): InspectedActorRef | undefined {
  if (!actor || typeof actor !== 'object') return undefined;
  const cached = cache.get(actor);
  if (cached) return cached;
  const real = actor as Unknown & { send?: (event: unknown) => void; getSnapshot?: () => unknown };
  const config = (real.logic as { config?: unknown } | undefined)?.config;
  let definition: unknown;
  const view: InspectedActorRef = Object.freeze({
    id: String(real.id ?? real.sessionId),
    sessionId: String(real.sessionId),
    src: typeof real.src === 'string' ? real.src : undefined,
    get _parent() {
      return viewOf(real._parent, options, cache);
    },
    logic: Object.freeze({
      get config() {
        if (definition === undefined && config && typeof config === 'object') definition = cleanDefinition(config, 0, startWalk(options));
        return definition;
      },
    }),
    send: (event: unknown) => real.send?.(event),
    getSnapshot: () => sanitizeSnapshot(real.getSnapshot?.(), options),
    toJSON: () => ({ xstate$$type: 1 as const, id: String(real.id ?? real.sessionId) }),
  });
  cache.set(actor, view);
  return view;
}

function sanitizeWith(event: InspectionEvent, options: SanitizeOptions, cache: ViewCache): InspectionEvent {
  const walk = startWalk(options);
  const source = event as unknown as Unknown;
  const out: Unknown = {
    type: event.type,
    rootId: event.rootId,
    actorRef: viewOf(event.actorRef, options, cache),
  };
  for (const key of Object.keys(source)) {
    if (key === 'type' || key === 'rootId' || key === 'actorRef') continue;
    const value = source[key];
    if (key === 'sourceRef' || key === 'targetRef') out[key] = viewOf(value, options, cache);
    else if (key === 'snapshot') out.snapshot = cleanSnapshot(value, walk);
    else if (key === 'action' && value && typeof value === 'object') {
      const action = value as { type?: unknown; params?: unknown };
      out.action = { type: cleanValue(action.type, 2, walk), params: cleanValue(action.params, 2, walk) };
    } else if (key === '_transitions' && Array.isArray(value)) {
      out._transitions = value.map((transition: { eventType?: unknown; source?: unknown; target?: unknown; reenter?: unknown }) => ({
        eventType: cleanValue(transition.eventType, 3, walk),
        source: describeStateNode(transition.source),
        target: Array.isArray(transition.target) ? transition.target.map(describeStateNode) : undefined,
        reenter: transition.reenter === true,
      }));
    } else out[redactText(key, walk.secrets)] = SECRET_KEY.test(key) ? REDACTED : cleanValue(value, 1, walk);
  }
  return out as unknown as InspectionEvent;
}

/** A new, sanitized inspection event; the live event, snapshot and context are left untouched. */
export function sanitizeInspectionEvent(event: InspectionEvent, options: SanitizeOptions = {}): InspectionEvent {
  return sanitizeWith(event, options, new WeakMap());
}

/** {@link sanitizeInspectionEvent} that gives the same actor the same view in every event, so its definition is copied once. */
export function createEventSanitizer(options: SanitizeOptions = {}): (event: InspectionEvent) => InspectionEvent {
  const cache: ViewCache = new WeakMap();
  return (event) => sanitizeWith(event, options, cache);
}

/**
 * Wraps an inspection observer so it only ever sees sanitized events; an event that cannot be
 * sanitized is dropped, never passed on as it was. `RunManager` wraps its `inspect` option with this.
 */
export function createSanitizedInspector(observer: InspectionObserver, options: SanitizeOptions = {}): Observer<InspectionEvent> {
  const sanitize = createEventSanitizer(options);
  const target: Partial<Observer<InspectionEvent>> = typeof observer === 'function' ? { next: observer } : observer;
  // XState calls the observer inside the actor's own step: one that throws would take the manager
  // down (and leave its lock held), so its failures stay with it, reported once.
  let reported = false;
  const report = (error: unknown) => {
    if (reported) return;
    reported = true;
    console.warn(`run-lifecycle: the inspect observer threw (${describeThrown(error)}); later failures are not reported`);
  };
  // An async observer's rejection is a failure like a throw, not an unhandled rejection.
  const guarded = (call: () => unknown) => {
    try {
      handleRejection(call(), report);
    } catch (error) {
      report(error);
    }
  };
  return {
    next(event) {
      let clean: InspectionEvent;
      try {
        clean = sanitize(event);
      } catch {
        return;
      }
      guarded(() => target.next?.(clean));
    },
    error(error) {
      guarded(() => target.error?.(sanitizeValue(error, options)));
    },
    complete() {
      guarded(() => target.complete?.());
    },
  };
}
