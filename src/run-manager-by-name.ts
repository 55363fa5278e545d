/** The root entry's `RunManager`: the core manager plus strategies by name (built-ins, aliases, registered). */
import { namedStrategies, STRATEGY, strategies } from './machines/strategies/registry.js';
import { RunManager as CoreRunManager, type CoreRunManagerOptions, type RunManagerBaseOptions } from './run-manager.js';
import type { StrategyResolver } from './run-manager-options.js';
import { RunService } from './services/run-service-v3.js';
import type { StrategyDefinition } from './machines/strategies/types.js';
import type { AnyStrategyChoice, StrategyChoice, StrategyOptionsFor, StrategyResetFor, StrategyRunFor } from './strategy-options.js';

/** Options of {@link RunManager}; `strategyOptions` is typed by the strategy chosen. */
export interface RunManagerOptions<TStrategy extends StrategyChoice = AnyStrategyChoice> extends RunManagerBaseOptions {
  /**
   * A built-in or registered strategy name, a definition, a statechart, or a `{ getRun, reset }`
   * strategy. Default: `reuse-per-session`, or `reuse-last-initialized` when `strategyOptions.initOperation` is given.
   */
  strategy?: TStrategy;
  /** Options of the strategy (`filter`, `initOperation`, `flag`, `scope`, `settings`, `onCreate`, `runId`, `condition`, `selfAssign`). */
  strategyOptions?: StrategyOptionsFor<TStrategy>;
}

/** The definition type a strategy choice stands for: its options and what getRun/reset resolve with. */
type DefinitionFor<TStrategy> = StrategyDefinition<StrategyOptionsFor<TStrategy>, StrategyRunFor<TStrategy>, StrategyResetFor<TStrategy>>;

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
export class RunManager<TStrategy extends StrategyChoice = AnyStrategyChoice> extends CoreRunManager<DefinitionFor<TStrategy>> {
  /** The strategy registry: `list`, `byName`, `register`. */
  static readonly strategies = strategies;
  /** Built-in strategy names. */
  static readonly STRATEGY = STRATEGY;
  protected static override strategyResolver: StrategyResolver = namedStrategies;
  protected static override runServiceClass = RunService;

  constructor(options: RunManagerOptions<TStrategy>) {
    // Only the strategy's form differs; the core constructor checks it with this class's resolver.
    super(options as unknown as CoreRunManagerOptions<DefinitionFor<TStrategy>>);
  }
}

/** Same as `new RunManager(options)`. */
export function createRunManager<TStrategy extends StrategyChoice = AnyStrategyChoice>(
  options: RunManagerOptions<TStrategy>,
): RunManager<TStrategy> {
  return new RunManager(options);
}
