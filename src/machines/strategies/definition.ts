/** A strategy definition checked without the registry: the only form the core entry takes. */
import { StateMachine, type AnyStateMachine } from 'xstate';
import { invalidOption } from './options.js';
import type { LegacyStrategy, StrategyDefinition } from './types.js';

/**
 * What `register` (and the `strategy` option) accept: a strategy definition, a statechart that
 * follows the strategy contract, or a `{ getRun, reset }` strategy as an object, a factory or a
 * class (both called with the manager's options). `requiresAuth` and `allowRunIDCache` are read
 * from the strategy when present.
 */
export type StrategyLike =
  | StrategyDefinition
  | AnyStateMachine
  // Both object forms: LegacyStrategy lets an object literal carry helpers of its own; the Pick, having
  // no index signature, admits class instances and values typed by an interface.
  | LegacyStrategy
  | Pick<LegacyStrategy, 'getRun' | 'reset'>
  | ((options: Record<string, unknown>) => Pick<LegacyStrategy, 'getRun' | 'reset'>)
  | (new (options: Record<string, unknown>) => Pick<LegacyStrategy, 'getRun' | 'reset'>);

/** Options of `register`. */
export interface RegisterOptions {
  /** Reject `UNAUTHORIZED` before any request when there is no logged-in user. */
  requiresAuth?: boolean;
  /**
   * Allow replacing a built-in strategy or alias. The registry is shared by every manager in the page
   * or process, so without this a built-in name is refused `INVALID_OPTIONS` rather than changed
   * under other code's feet.
   */
  replace?: boolean;
}

function checkOptionKeys(keys: unknown, name: string): readonly string[] {
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string')) {
    throw invalidOption('strategy', `'${name}' has optionKeys that are not an array of strings`);
  }
  return Object.freeze([...(keys as string[])]);
}

/** An object with a statechart as its `machine`. */
export function isDefinition(value: unknown): value is StrategyDefinition {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    (value as { machine?: unknown }).machine instanceof StateMachine
  );
}

/** A copy of a definition under `name`, its `optionKeys` checked. */
export function normaliseDefinition(name: string, strategy: StrategyDefinition, options: RegisterOptions = {}): StrategyDefinition {
  const definition: StrategyDefinition = {
    name,
    machine: strategy.machine,
    requiresAuth: options.requiresAuth ?? strategy.requiresAuth,
    cachesRun: strategy.cachesRun,
  };
  if (strategy.scopedBy === 'group' || strategy.scopedBy === 'world') definition.scopedBy = strategy.scopedBy;
  if (strategy.prepareOptions) definition.prepareOptions = strategy.prepareOptions;
  if (strategy.boundOptions) definition.boundOptions = strategy.boundOptions;
  if (strategy.optionKeys !== undefined) definition.optionKeys = checkOptionKeys(strategy.optionKeys, name);
  if (strategy.createLegacy) definition.createLegacy = strategy.createLegacy;
  return definition;
}
