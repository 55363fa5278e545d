/**
 * The single-flight lock in model paths: the lock actor's two answers as produced events, and a
 * coordinator that takes each answer from the path's script and then really locks, so a replay can
 * check that nothing is left held or waiting once its actor has stopped.
 */
import type { StateValue } from 'xstate';
import { RunManagerError } from '../../../src/errors.js';
import { createProcessCoordinator, type Coordinator, type ProcessCoordinator } from '../../../src/services/coordination.js';
import type { EventVariant, PathScript } from '../../../src/testing/index.js';
import { returns, scriptedCall, throws, type ModelItem } from './http-script.js';

const lockFailure = new Error('locks unavailable');

/** `LOCK_ACQUIRED` and `LOCK_FAILED`, produced by the lock actor once the script answers `acquire`. */
export const lockEvents: Record<string, EventVariant<ModelItem>[]> = {
  LOCK_ACQUIRED: [{ label: 'lock free', produced: true, script: [returns('acquire')] }],
  LOCK_FAILED: [
    {
      label: 'coordinator fails',
      produced: true,
      event: { type: 'LOCK_FAILED', error: new RunManagerError('INVALID_OPTIONS', 'coordinator.acquire failed: locks unavailable') },
      script: [throws('acquire', lockFailure)],
    },
  ],
};

/**
 * A coordinator for one path: `acquire` waits for the script's answer, then takes a real lock from
 * a process mutex of its own (`locks`), whose `held` and `waiting` must be 0 after the replay.
 */
export function scriptedCoordinator(script: PathScript<ModelItem>): { coordinator: Coordinator; locks: ProcessCoordinator } {
  const locks = createProcessCoordinator();
  return {
    locks,
    coordinator: {
      async acquire(name, signal) {
        await scriptedCall(script, 'acquire', signal);
        return locks.acquire(name, signal);
      },
    },
  };
}

/** Where a stop must give the lock back: any state of a `locked` region (waiting for it, or holding it). */
export function stoppedWhileLocked(value: StateValue): boolean {
  return typeof value === 'object' && findLocked(value) !== undefined;
}

function findLocked(value: Record<string, StateValue | undefined>): string | undefined {
  for (const [key, child] of Object.entries(value)) {
    if (key === 'locked') return typeof child === 'string' ? child : child ? Object.keys(child)[0] : undefined;
    if (child && typeof child === 'object') {
      const inner = findLocked(child);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}
