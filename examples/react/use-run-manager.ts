/**
 * The RunManager's state for React views, selected from its actor with `useSelector` from
 * `@xstate/react`: a component re-renders only when what it selects changes.
 */
import { useSelector } from '@xstate/react';
import type { RunManager } from 'run-lifecycle';

/**
 * `busy` while a getRun()/reset() resolves, the current `run` (null before the first), and the
 * last call's `error` (null unless it failed).
 *
 * @example
 * ```ts
 * const { busy, run, error } = useRunManager(rm);
 * ```
 */
export function useRunManager(rm: RunManager) {
  const busy = useSelector(rm.actor, (snapshot) => snapshot.hasTag('busy'));
  const run = useSelector(rm.actor, (snapshot) => snapshot.context.run);
  const error = useSelector(rm.actor, (snapshot) => (snapshot.hasTag('error') ? snapshot.context.error : null));
  return { busy, run, error };
}
