/**
 * The gate between a replay and the services under test: the replay opens one step at a time, and
 * services `take()` that step's items in order — so an answer is only ever given when the path has
 * reached the step it belongs to, whatever the timing of requests.
 */
import type { ModelPath, ModelStep, PathScript, ScriptTake } from './types.js';

interface Waiter {
  what: string;
  invokeId: string | undefined;
  resolve(take: ScriptTake<unknown>): void;
  reject(error: Error): void;
}

/**
 * A {@link PathScript} plus the controls the replay uses.
 *
 * @example
 * ```ts
 * script.open(step, step.script);
 * // … the services take the items …
 * if (script.close().length > 0) throw new Error('unused items');
 * ```
 */
export interface ControlledScript<TScript = unknown> extends PathScript<TScript> {
  /** Makes `items` of `step` available to `take()`. */
  open(step: ModelStep, items: readonly unknown[]): void;
  /** Ends the open step; returns the items nobody took. */
  close(): unknown[];
  /** Recorded mismatches. */
  readonly failures: readonly string[];
  /** What services are waiting for right now (`what` of pending takes). */
  pending(): string[];
  /** Rejects every pending and later `take()`. */
  shutdown(): void;
}

/**
 * A script for one replay of `path`.
 *
 * @example
 * ```ts
 * const script = createPathScript(path);
 * script.open(path.steps[0]!, path.steps[0]!.script);
 * const { item } = await script.take();
 * ```
 */
export function createPathScript<TScript = unknown>(path: ModelPath): ControlledScript<TScript> {
  let step: ModelStep | null = null;
  let items: unknown[] = [];
  const waiters: Waiter[] = [];
  const failures: string[] = [];
  let finished = false;

  function flush(): void {
    while (step && items.length > 0) {
      const current = step;
      const index = waiters.findIndex((waiter) => waiter.invokeId === undefined || waiter.invokeId === current.invokeId);
      if (index === -1) return;
      const [waiter] = waiters.splice(index, 1);
      waiter!.resolve({ item: items.shift(), step: current });
    }
  }

  return {
    path,
    failures,
    take(options = {}) {
      const { signal, what = 'a scripted answer', invokeId } = options;
      if (finished) return Promise.reject(new Error(`run-lifecycle/testing: the replay of path #${path.id} has ended`));
      return new Promise<ScriptTake<TScript>>((resolve, reject) => {
        const waiter: Waiter = {
          what,
          invokeId,
          resolve: (take) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(take as ScriptTake<TScript>);
          },
          reject: (error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        function onAbort(): void {
          const index = waiters.indexOf(waiter);
          if (index !== -1) waiters.splice(index, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('run-lifecycle/testing: aborted'));
        }
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
        flush();
      });
    },
    fail(message) {
      failures.push(message);
    },
    open(next, nextItems) {
      step = next;
      items = [...nextItems];
      flush();
    },
    close() {
      const left = items;
      step = null;
      items = [];
      return left;
    },
    pending() {
      return waiters.map((waiter) => waiter.what);
    },
    shutdown() {
      finished = true;
      step = null;
      items = [];
      const error = new Error(`run-lifecycle/testing: the replay of path #${path.id} has ended`);
      for (const waiter of waiters.splice(0)) waiter.reject(error);
    },
  };
}
