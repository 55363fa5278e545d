/**
 * The lock actor (`holdLock`) on its own: held exactly while the invoking state is active, given back
 * when a hand-over lands while the actor is being stopped, and every way a coordinator can fail
 * reported as `LOCK_FAILED` instead of a wait that never ends.
 */
import { describe, expect, it } from 'vitest';
import { createActor, setup, type AnyActorRef } from 'xstate';
import { RunManagerError } from '../../src/errors.js';
import { holdLock, type LockEvent } from '../../src/machines/lock.js';
import { createProcessCoordinator, type Coordinator, type ReleaseLock } from '../../src/services/coordination.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A machine that holds the lock in `locked` until DONE, and remembers a failure. */
const lockedMachine = setup({
  types: {
    input: {} as { coordinator: Coordinator },
    context: {} as { coordinator: Coordinator; error: RunManagerError | null },
    events: {} as LockEvent | { type: 'DONE' },
  },
  actors: { holdLock },
}).createMachine({
  context: ({ input }) => ({ coordinator: input.coordinator, error: null }),
  initial: 'locked',
  states: {
    locked: {
      invoke: { id: 'lock', src: 'holdLock', input: ({ context }) => ({ coordinator: context.coordinator, name: 'k' }) },
      initial: 'waitingForLock',
      states: {
        waitingForLock: {
          on: {
            LOCK_ACQUIRED: 'holding',
            LOCK_FAILED: { target: '#failed' },
          },
        },
        holding: { on: { DONE: '#done' } },
      },
    },
    done: { id: 'done', type: 'final' },
    failed: { id: 'failed', type: 'final' },
  },
});

function start(coordinator: Coordinator): AnyActorRef & { stop(): void } {
  const actor = createActor(lockedMachine, { input: { coordinator } });
  actor.start();
  return actor;
}

describe('holdLock', () => {
  it('holds the lock while the state is active and gives it back when the state is left', async () => {
    const locks = createProcessCoordinator();
    const actor = start(locks);
    await tick();
    expect(actor.getSnapshot().value).toEqual({ locked: 'holding' });
    expect(locks.held).toBe(1);
    actor.send({ type: 'DONE' });
    expect(locks.held).toBe(0);
  });

  it('stopped while waiting: leaves the queue; stopped while holding: releases', async () => {
    const locks = createProcessCoordinator();
    const first = start(locks);
    const second = start(locks);
    await tick();
    expect([locks.held, locks.waiting]).toEqual([1, 1]);
    second.stop();
    expect([locks.held, locks.waiting]).toEqual([1, 0]);
    first.stop();
    expect([locks.held, locks.waiting]).toEqual([0, 0]);
  });

  it('a lock handed over while the actor is being stopped is released at once', async () => {
    const locks = createProcessCoordinator();
    let handOver!: (release: ReleaseLock) => void;
    // The coordinator resolves with the lock only after the actor was stopped (the hand-over microtask).
    const late: Coordinator = {
      acquire: () =>
        new Promise<ReleaseLock>((resolve) => {
          handOver = resolve;
        }),
    };
    const actor = start(late);
    const release = await locks.acquire('k');
    actor.stop();
    handOver(release);
    await tick();
    expect(locks.held).toBe(0);
    expect(await locks.acquire('k')).toBeTypeOf('function');
  });

  const refusing = (): Promise<unknown> => Promise.reject(new DOMException('The request was denied.', 'SecurityError'));
  const throwing = (): never => {
    throw Object.create(null);
  };
  it.each([
    ['rejects', { acquire: refusing }, /coordinator\.acquire failed: The request was denied/],
    ['throws synchronously', { acquire: throwing }, /coordinator\.acquire failed: a thrown object/],
    [
      'resolves to no release function',
      { acquire: async (): Promise<unknown> => 'yes' },
      /coordinator\.acquire must resolve to a release function/,
    ],
  ])('a coordinator that %s ends in LOCK_FAILED, never a wait without end', async (_what, coordinator, message) => {
    const failures: LockEvent[] = [];
    const actor = createActor(lockedMachine, {
      input: { coordinator: coordinator as unknown as Coordinator },
      inspect: (event) => {
        if (event.type === '@xstate.event' && event.event.type === 'LOCK_FAILED') failures.push(event.event as LockEvent);
      },
    });
    actor.start();
    await tick();
    expect(actor.getSnapshot().value).toBe('failed');
    const failure = failures[0] as Extract<LockEvent, { type: 'LOCK_FAILED' }>;
    expect(failure.error).toBeInstanceOf(RunManagerError);
    expect(failure.error.type).toBe('INVALID_OPTIONS');
    expect(failure.error.message).toMatch(message);
  });
});
