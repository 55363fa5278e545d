/**
 * The single-flight locks: the process mutex (FIFO, waiters that leave), the Web Locks coordinator
 * (and its fallback where the API refuses to work), and the per-manager tracker that gives every
 * lock back at once.
 */
import { describe, expect, it, vi } from 'vitest';
import { isRunManagerError } from '../../src/errors.js';
import { createProcessCoordinator, createWebLocksCoordinator, trackLocks, type ReleaseLock } from '../../src/services/coordination.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a promise has settled yet (without waiting for it). */
function settledFlag(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

describe('process coordinator', () => {
  it('hands one name to one caller at a time, in arrival order', async () => {
    const locks = createProcessCoordinator();
    const order: string[] = [];
    const first = await locks.acquire('k');
    const second = locks.acquire('k').then((release) => (order.push('second'), release));
    const third = locks.acquire('k').then((release) => (order.push('third'), release));
    await tick();
    expect(order).toEqual([]);
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });

  it('a waiter that stops leaves the queue, and the holder keeps the lock', async () => {
    const locks = createProcessCoordinator();
    const holderRelease = await locks.acquire('k');
    const waiter = new AbortController();
    const waiting = locks.acquire('k', waiter.signal);
    waiter.abort();
    await expect(waiting).rejects.toSatisfy((error) => isRunManagerError(error, 'ABORTED'));
    // The next caller must still wait for the holder: the lock was never free.
    const next = locks.acquire('k');
    const nextState = settledFlag(next);
    await tick();
    expect(nextState.settled).toBe(false);
    expect([locks.held, locks.waiting]).toEqual([1, 1]);
    holderRelease();
    (await next)();
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });

  it('with 50 waiters, stopping the last (or any) never lets a newcomer in beside the holder', async () => {
    const locks = createProcessCoordinator();
    let holders = 0;
    let most = 0;
    const hold = async (release: ReleaseLock) => {
      holders += 1;
      most = Math.max(most, holders);
      await tick();
      holders -= 1;
      release();
    };
    const first = await locks.acquire('k');
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    const waits = controllers.map((controller) => locks.acquire('k', controller.signal).then(hold, () => 'left'));
    controllers[49]!.abort();
    controllers[10]!.abort();
    const late = locks.acquire('k').then(hold);
    await tick();
    expect(holders).toBe(0);
    void hold(first);
    const outcomes = await Promise.all(waits);
    await late;
    expect(outcomes.filter((outcome) => outcome === 'left')).toHaveLength(2);
    expect(most).toBe(1);
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });

  it('a release called twice releases once', async () => {
    const locks = createProcessCoordinator();
    const release = await locks.acquire('k');
    const next = locks.acquire('k');
    release();
    const nextRelease = await next;
    release();
    const third = settledFlag(locks.acquire('k'));
    await tick();
    expect(third.settled).toBe(false);
    nextRelease();
  });

  it('tryAcquire takes a free lock at once, and leaves a held or awaited one to acquire', async () => {
    const locks = createProcessCoordinator();
    const release = locks.tryAcquire('k')!;
    expect(typeof release).toBe('function');
    expect(locks.tryAcquire('k')).toBeUndefined();
    const waiting = locks.acquire('k');
    expect(locks.waiting).toBe(1);
    release();
    const next = await waiting;
    // Held by the waiter now: still not free.
    expect(locks.tryAcquire('k')).toBeUndefined();
    next();
    expect(locks.held).toBe(0);
    locks.tryAcquire('k')!();
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });

  it('an aborted signal is refused before queueing', async () => {
    const locks = createProcessCoordinator();
    await expect(locks.acquire('k', AbortSignal.abort())).rejects.toSatisfy((error) => isRunManagerError(error, 'ABORTED'));
    expect(locks.held).toBe(0);
  });
});

/** A minimal in-memory `navigator.locks`: one holder per name, FIFO, signals honoured while waiting. */
function fakeWebLocks() {
  const queues = new Map<string, Array<() => void>>();
  const busy = new Set<string>();
  const request = vi.fn((name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>) => {
    return new Promise<void>((resolve, reject) => {
      const run = () => {
        busy.add(name);
        void callback().finally(() => {
          busy.delete(name);
          queues.get(name)?.shift()?.();
          resolve();
        });
      };
      if (!busy.has(name)) return run();
      const queue = queues.get(name) ?? [];
      queues.set(name, queue);
      queue.push(run);
      options.signal?.addEventListener('abort', () => {
        queue.splice(queue.indexOf(run), 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  });
  return { request };
}

describe('Web Locks coordinator', () => {
  it('holds the Web Lock until released, and gives the place up on abort', async () => {
    const locks = fakeWebLocks();
    const coordinator = createWebLocksCoordinator(locks);
    const release = await coordinator.acquire('k');
    const waiter = new AbortController();
    const waiting = coordinator.acquire('k', waiter.signal);
    waiter.abort();
    await expect(waiting).rejects.toSatisfy((error) => isRunManagerError(error, 'ABORTED'));
    const next = coordinator.acquire('k');
    const nextState = settledFlag(next);
    await tick();
    expect(nextState.settled).toBe(false);
    release();
    (await next)();
  });

  it('where navigator.locks refuses (SecurityError), falls back to the process mutex and warns once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const refusing = {
      request: vi.fn(() => Promise.reject(new DOMException('The request was denied.', 'SecurityError'))),
    };
    const fallback = createProcessCoordinator();
    const coordinator = createWebLocksCoordinator(refusing, fallback);
    const release = await coordinator.acquire('k');
    expect(fallback.held).toBe(1);
    const second = settledFlag(coordinator.acquire('k'));
    await tick();
    expect(second.settled).toBe(false);
    release();
    await tick();
    expect(second.settled).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    // Once refused, the API is not asked again.
    expect(refusing.request).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('a request that throws synchronously falls back too', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const throwing = {
      request: () => {
        throw new TypeError('locks is not available in this context');
      },
    };
    const fallback = createProcessCoordinator();
    const release = await createWebLocksCoordinator(throwing, fallback).acquire('k');
    expect(fallback.held).toBe(1);
    release();
    warn.mockRestore();
  });
});

describe('trackLocks', () => {
  it('releaseAll gives back held locks, and a wait still queued releases its lock as soon as it is granted', async () => {
    const inner = createProcessCoordinator();
    const other = await inner.acquire('busy');
    const tracked = trackLocks(inner);
    await tracked.acquire('a');
    const waiting = tracked.acquire('busy');
    await tick();
    expect([inner.held, inner.waiting]).toEqual([2, 1]);
    tracked.releaseAll();
    await tick();
    expect([inner.held, inner.waiting]).toEqual([1, 1]);
    other();
    await expect(waiting).rejects.toSatisfy((error) => isRunManagerError(error, 'ABORTED'));
    expect([inner.held, inner.waiting]).toEqual([0, 0]);
    await expect(tracked.acquire('a')).rejects.toSatisfy((error) => isRunManagerError(error, 'ABORTED'));
  });

  it('tryAcquire is tracked too: releaseAll gives it back, and a closed tracker takes nothing', async () => {
    const inner = createProcessCoordinator();
    const tracked = trackLocks(inner);
    expect(tracked.tryAcquire?.('a')).toBeTypeOf('function');
    expect(tracked.tryAcquire?.('a')).toBeUndefined();
    tracked.releaseAll();
    await tick();
    expect(inner.held).toBe(0);
    expect(tracked.tryAcquire?.('a')).toBeUndefined();
    expect(inner.held).toBe(0);
    // A coordinator without tryAcquire never hands a lock out at once: callers wait with acquire.
    expect(trackLocks({ acquire: () => Promise.resolve(() => undefined) }).tryAcquire?.('a')).toBeUndefined();
  });

  it('while a write the manager gave up on may still be carried out, its locks are given back only after that', async () => {
    const inner = createProcessCoordinator();
    let inDoubtFor = 0;
    const tracked = trackLocks(inner, () => inDoubtFor);
    const first = await tracked.acquire('a');
    first();
    await tick();
    expect(inner.held).toBe(0);

    await tracked.acquire('a');
    inDoubtFor = 40;
    let granted = false;
    const next = inner.acquire('a').then((release) => {
      granted = true;
      return release;
    });
    const releasedAt = Date.now();
    tracked.releaseAll();
    await sleep(10);
    expect(granted).toBe(false);
    const release = await next;
    expect(Date.now() - releasedAt).toBeGreaterThanOrEqual(35);
    release();
    expect(inner.held).toBe(0);
  });

  it('a lock handed over just as the caller stops waiting is released at once', async () => {
    const inner = createProcessCoordinator();
    const holder = await inner.acquire('k');
    const tracked = trackLocks(inner);
    const caller = new AbortController();
    const waiting = tracked.acquire('k', caller.signal);
    await tick();
    // The holder hands over (the grant is queued as a microtask), and the caller leaves in the same tick.
    holder();
    caller.abort();
    await expect(waiting).rejects.toSatisfy((error) => isRunManagerError(error, 'ABORTED'));
    expect([inner.held, inner.waiting]).toEqual([0, 0]);
  });
});
