/** The root entry's `RunManager`: the core manager plus strategies by name (built-ins, aliases, registered). */
import { namedStrategies, STRATEGY, strategies, type StrategyLike, type StrategyName } from './machines/strategies/registry.js';
import { RunManager as CoreRunManager, type CoreRunManagerOptions, type RunManagerBaseOptions } from './run-manager.js';
import type { StrategyResolver } from './run-manager-options.js';
import { RunService } from './services/run-service-v3.js';

/** Options of {@link RunManager}. */
export interface RunManagerOptions extends RunManagerBaseOptions {
  /**
   * A built-in or registered strategy name, a definition, a statechart, or a `{ getRun, reset }`
   * strategy. Default: `reuse-per-session`, or `reuse-last-initialized` when `strategyOptions.initOperation` is given.
   */
  strategy?: StrategyName | (string & {}) | StrategyLike;
}

/**
 * Decides which run an end user works with, by strategy, and keeps `run` bound to it.
 *
 * @example
 * ```ts
 * const rm = new RunManager({
 *   run: { account: 'acme', project: 'sim', model: 'model.py' },
 *   strategy: 'reuse-per-session',
 *   session: { userId: 'u1', auth_token: token },
 * });
 * const run = await rm.getRun(['price']);
 * await rm.run.do('step', [1]);
 * ```
 */
export class RunManager extends CoreRunManager {
  /** The strategy registry: `list`, `byName`, `register`. */
  static readonly strategies = strategies;
  /** Built-in strategy names. */
  static readonly STRATEGY = STRATEGY;
  protected static override strategyResolver: StrategyResolver = namedStrategies;
  protected static override runServiceClass = RunService;

  constructor(options: RunManagerOptions) {
    // Only the strategy's form differs; the core constructor checks it with this class's resolver.
    super(options as unknown as CoreRunManagerOptions);
  }
}

/** Same as `new RunManager(options)`. */
export function createRunManager(options: RunManagerOptions): RunManager {
  return new RunManager(options);
}
