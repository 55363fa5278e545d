/** A strategy definition checked without the registry: the only form the core entry takes. */
import { StateMachine, type AnyStateMachine } from 'xstate';
import { invalidOption } from './options.js';
import type { LegacyStrategy, StrategyDefinition } from './types.js';

/** What `register` (and the `strategy` option) accept. */
export type StrategyLike =
  | StrategyDefinition
  | AnyStateMachine
  | LegacyStrategy
  | ((options: Record<string, unknown>) => LegacyStrategy)
  | (new (options: Record<string, unknown>) => LegacyStrategy);

/** Options of `register`. */
export interface RegisterOptions {
  /** Reject `UNAUTHORIZED` before any request when there is no logged-in user. */
  requiresAuth?: boolean;
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
