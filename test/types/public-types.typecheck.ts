/**
 * Compile-time checks of the public types (run by `npm run typecheck`): strategyOptions typed per
 * strategy, by name and by definition, callbacks' parameters inferred under `strict`, `none` typed
 * as what it resolves with, and a manager of any strategy assignable to the plain `RunManager` type.
 */
import { RunManager, createRunManager, type Run, type RunService } from 'run-lifecycle';
import { RunManager as CoreRunManager } from 'run-lifecycle/core';
import { none, reuseAcrossSessions, reuseByTrackingKey } from 'run-lifecycle/strategies';

/** Compiles only when `T` is exactly the type of `value` (neither wider nor narrower). */
type Exactly<T, U> = [T] extends [U] ? ([U] extends [T] ? true : false) : false;
const exactly = <T, U>(check: Exactly<T, U>): Exactly<T, U> => check;

const run = { account: 'a', project: 'p', model: 'm' };

const trackingKey = new RunManager({
  run,
  strategy: 'reuse-by-tracking-key',
  strategyOptions: {
    settings: { trackingKey: 'k', runLimit: 3 },
    onCreate: (runService, settings, created) => {
      exactly<typeof runService, RunService>(true);
      exactly<typeof created, Run>(true);
      return runService.load(created.id + String(settings.trackingKey));
    },
  },
});
exactly<ReturnType<typeof trackingKey.getRun>, Promise<Run>>(true);

const runless = new RunManager({ run, strategy: 'none' });
exactly<ReturnType<typeof runless.getRun>, Promise<RunService>>(true);
exactly<ReturnType<typeof runless.reset>, Promise<undefined>>(true);

// @ts-expect-error a misspelt option key is a compile error
new RunManager({ run, strategy: 'reuse-across-sessions', strategyOptions: { filtre: {} } });
// @ts-expect-error use-specific-run's runId is a string
new RunManager({ run, strategy: 'use-specific-run', strategyOptions: { runId: 1 } });
// @ts-expect-error reuse-never takes no options
new RunManager({ run, strategy: 'reuse-never', strategyOptions: { filter: {} } });
new RunManager({
  run,
  strategy: 'conditional-creation',
  strategyOptions: { condition: (cached, headers) => cached.id === headers.get('x') },
});
createRunManager({ run, strategy: 'multiplayer', strategyOptions: { selfAssign: { role: 'x' } } });
new RunManager({ run, strategyOptions: { initOperation: ['init'] } });

const core = new CoreRunManager({
  run,
  strategy: reuseByTrackingKey,
  strategyOptions: { onCreate: (_runService, _settings, created) => created.id },
});
const coreRunless = new CoreRunManager({ run, strategy: none });
exactly<ReturnType<typeof coreRunless.getRun>, Promise<RunService>>(true);
// @ts-expect-error a misspelt option key is a compile error with a definition too
new CoreRunManager({ run, strategy: reuseAcrossSessions, strategyOptions: { filtre: {} } });

export const managers: RunManager[] = [runless, trackingKey];
export const coreManagers: CoreRunManager[] = [core, coreRunless];
