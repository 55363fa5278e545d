/**
 * An offline trace of every actor in a run manager, one JSON line per actor creation, event and
 * snapshot, for debugging a session after the fact. Lines come from sanitized events, so a trace holds no secret.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { createEventSanitizer, type SanitizeOptions } from './inspection.js';

/**
 * One line of a trace: an `actor` was created, an `event` delivered to it, or it settled in a
 * `snapshot` (`via` lists transient states it passed through on the way).
 */
export interface TraceLine {
  /** Milliseconds since the recorder was created. */
  t: number;
  /** The machine id for a root (`run-manager`), else the invoke id (`strategy`, `createRun`, …). */
  actor: string;
  /** The actor's session id, unique per actor. */
  sessionId: string;
  /** What the line records. */
  type: 'actor' | 'event' | 'snapshot';
  /** Snapshot lines: the state value. */
  state?: unknown;
  /** Snapshot lines: transient states passed on the way. */
  via?: string[];
  /** The event's type; on a snapshot line, the event that led to it. */
  event?: string;
  /** Snapshot lines: `active`, `done`, `error` or `stopped`. */
  status?: string;
  /** An errored actor's error, or the context's `error` in a state tagged `error` (sanitized). */
  error?: unknown;
  /** Event lines: the sender's name. */
  source?: string;
  /** Actor lines: the parent's name. */
  parent?: string;
}

/** A callback that gets each line (without a newline), or a file (Node only). */
export type TraceTarget = { write: (line: string) => void } | { file: string };

/** Where a trace goes, and extra secrets to redact. */
export type TraceRecorderOptions = TraceTarget & Pick<SanitizeOptions, 'secrets'>;

/** An inspection observer that writes a trace; pass it as `inspect`. */
export interface TraceRecorder extends Observer<InspectionEvent> {
  /** Receives one inspection event. */
  next(event: InspectionEvent): void;
  /** Lines written so far. */
  readonly lines: number;
  /** Flushes and closes the file; rejects with the first write failure, if any. */
  close(): Promise<void>;
}

interface ActorLike {
  id?: string;
  sessionId?: string;
  logic?: { config?: { id?: unknown } };
  _parent?: ActorLike;
}

function actorName(actor: ActorLike | undefined): string | undefined {
  if (!actor) return undefined;
  // A root actor's id is its session id unless given one: name it after its machine.
  if (actor.id === actor.sessionId) {
    const machineId = actor.logic?.config?.id;
    if (typeof machineId === 'string') return machineId;
  }
  return actor.id ?? actor.sessionId;
}

function statePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => statePaths(child, `${prefix}${key}.`));
}

/** `node:fs` is loaded on first use so browser bundles never include it. */
function fileWriter(file: string): { write(line: string): void; close(): Promise<void> } {
  const queue: string[] = [];
  let stream:
    | { write(chunk: string): boolean; end(callback: () => void): void; on(event: 'error', listener: (error: Error) => void): void }
    | undefined;
  let failure: unknown;
  // Built at run time so no bundler (ours included) can fold it into a literal import it would then resolve.
  const specifier = ['node', 'fs'].join(':');
  const opened = (import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<typeof import('node:fs')>).then(
    (fs) => {
      stream = fs.createWriteStream(file, { flags: 'w' });
      stream.on('error', (error) => (failure ??= error));
      for (const line of queue.splice(0)) stream.write(line);
    },
    (error: unknown) => {
      failure ??= error;
    },
  );
  let closed = false;
  return {
    write(line) {
      if (closed) return; // a stopped actor's last events may come after close()
      if (stream) stream.write(line);
      else queue.push(line);
    },
    async close() {
      closed = true;
      await opened;
      if (stream) await new Promise<void>((resolve) => stream!.end(resolve));
      if (failure) throw failure as Error;
    },
  };
}

/**
 * Records a trace of every actor of the run manager. Give `secrets` when recording an actor directly;
 * a `RunManager` already passes sanitized events.
 *
 * @example
 * ```ts
 * const trace = createTraceRecorder({ file: 'trace.jsonl' }); // or { write: (line) => lines.push(line) }
 * const rm = new RunManager({ run, session, inspect: trace });
 * await rm.getRun();
 * rm.stop();
 * await trace.close();
 * ```
 */
export function createTraceRecorder(options: TraceRecorderOptions): TraceRecorder {
  const start = performance.now();
  const sink = 'file' in options ? fileWriter(options.file) : undefined;
  const write = sink ? (line: string) => sink.write(`${line}\n`) : (options as { write: (line: string) => void }).write;
  const sanitize = createEventSanitizer(options.secrets ? { secrets: options.secrets } : {});
  const lastState = new Map<string, string[]>(); // sessionId → leaf paths of its last snapshot line
  const passed = new Map<string, string[]>(); // sessionId → states left since its last snapshot line
  let count = 0;
  let failure: unknown;

  function emit(line: TraceLine): void {
    try {
      write(JSON.stringify(line));
      count += 1;
    } catch (error) {
      failure ??= error;
    }
  }

  function record(raw: InspectionEvent): void {
    const event = sanitize(raw);
    const actor = event.actorRef as ActorLike;
    const sessionId = String(actor.sessionId);
    const base = { t: Math.round((performance.now() - start) * 100) / 100, actor: actorName(actor) ?? sessionId, sessionId };
    switch (event.type) {
      case '@xstate.actor': {
        const parent = actorName(actor._parent);
        emit({ ...base, type: 'actor', ...(parent ? { parent } : {}) });
        break;
      }
      case '@xstate.event': {
        const source = actorName(event.sourceRef);
        emit({ ...base, type: 'event', event: event.event.type, ...(source ? { source } : {}) });
        break;
      }
      case '@xstate.microstep': {
        const left = passed.get(sessionId) ?? [];
        for (const transition of event._transitions as unknown as Array<{ source?: { path?: string[] }; target?: unknown[] }>) {
          const from = transition.source?.path?.join('.');
          if (transition.target && from && left.at(-1) !== from) left.push(from);
        }
        passed.set(sessionId, left);
        break;
      }
      case '@xstate.snapshot': {
        const snapshot = event.snapshot as {
          value?: unknown;
          status?: string;
          error?: unknown;
          tags?: unknown;
          context?: { error?: unknown };
        };
        const error =
          snapshot.status === 'error'
            ? snapshot.error
            : Array.isArray(snapshot.tags) && snapshot.tags.includes('error')
              ? snapshot.context?.error
              : undefined;
        const now = 'value' in snapshot ? statePaths(snapshot.value) : [];
        const before = lastState.get(sessionId) ?? [];
        const via = (passed.get(sessionId) ?? []).filter((path) => !now.includes(path) && !before.includes(path));
        passed.delete(sessionId);
        lastState.set(sessionId, now);
        emit({
          ...base,
          type: 'snapshot',
          ...('value' in snapshot ? { state: snapshot.value } : {}),
          ...(via.length ? { via } : {}),
          event: event.event.type,
          ...(snapshot.status ? { status: snapshot.status } : {}),
          ...(error !== undefined && error !== null ? { error } : {}),
        });
        if (snapshot.status !== 'active') {
          lastState.delete(sessionId);
        }
        break;
      }
    }
  }

  return {
    next(event) {
      try {
        record(event);
      } catch (error) {
        failure ??= error;
      }
    },
    get lines() {
      return count;
    },
    async close() {
      await sink?.close();
      if (failure) throw failure as Error;
    },
  };
}
