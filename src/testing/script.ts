/**
 * The gate between a replay and the services under test: the replay opens one step at a time, so
 * an answer is only given once the path has reached its step, whatever the timing of requests.
 */
import type { ModelPath, ModelStep, PathScript, ScriptTake } from './types.js';

interface Waiter {
  what: string;
  invokeId: string | undefined;
  resolve(take: ScriptTake): void;
  reject(error: Error): void;
}

/** A {@link PathScript} plus the controls the replay uses. */
export interface ControlledScript<TScript = unknown> extends PathScript<TScript> {
  open(step: ModelStep, items: readonly unknown[]): void;
  /** Ends the open step; returns the items nobody took. */
  close(): unknown[];
  readonly failures: readonly string[];
  /** The `what` of pending takes. */
  pending(): string[];
  /** Rejects every pending and later `take()`. */
  shutdown(): void;
}

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
