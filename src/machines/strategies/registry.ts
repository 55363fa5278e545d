/**
 * The strategy registry: the built-ins by name (with the original's aliases), and `register` for a
 * statechart that follows the strategy contract or an Epicenter.js `{ getRun, reset }` strategy.
 */
import { StateMachine } from 'xstate';
import { describeThrown, RunManagerError } from '../../errors.js';
import { ConditionalCreation, type ConditionalCreationConstructor } from './conditional-creation.machine.js';
import { legacyStrategyMachine } from './legacy.machine.js';
import { multiplayerStrategy } from './multiplayer.machine.js';
import { noneStrategy } from './none.machine.js';
import { isDefinition, normaliseDefinition, type RegisterOptions, type StrategyLike } from './definition.js';
import { closestKey, invalidOption, isPlainObject } from './options.js';
import type { StrategyResolver } from '../../run-manager-options.js';
import { reuseAcrossSessionsStrategy } from './reuse-across-sessions.machine.js';
import { reuseByTrackingKeyMultiplayerStrategy } from './reuse-by-tracking-key-multiplayer.machine.js';
import { reuseByTrackingKeyStrategy } from './reuse-by-tracking-key.machine.js';
import { reuseLastInitializedStrategy } from './reuse-last-initialized.machine.js';
import { reuseNeverStrategy } from './reuse-never.machine.js';
import { reusePerSessionStrategy } from './reuse-per-session.machine.js';
import type { LegacyStrategy, StrategyDefinition } from './types.js';

export type { RegisterOptions, StrategyLike } from './definition.js';
import { useSpecificRunStrategy } from './use-specific-run.machine.js';

/** Names of the built-in strategies, as `RunManager.STRATEGY`. */
export const STRATEGY = {
  REUSE_NEVER: 'reuse-never',
  REUSE_PER_SESSION: 'reuse-per-session',
  REUSE_ACROSS_SESSIONS: 'reuse-across-sessions',
  REUSE_LAST_INITIALIZED: 'reuse-last-initialized',
  REUSE_BY_TRACKING_KEY: 'reuse-by-tracking-key',
  REUSE_BY_TRACKING_KEY_MULTIPLAYER: 'reuse-by-tracking-key-multiplayer',
  MULTIPLAYER: 'multiplayer',
  USE_SPECIFIC_RUN: 'use-specific-run',
  NONE: 'none',
  CONDITIONAL_CREATION: 'conditional-creation',
} as const;

export type StrategyName = (typeof STRATEGY)[keyof typeof STRATEGY];

/** The original's alias names. */
export const STRATEGY_ALIASES: Readonly<Record<string, StrategyName>> = {
  'always-new': 'reuse-never',
  'new-if-missing': 'reuse-per-session',
  'persistent-single-player': 'reuse-across-sessions',
};

function assertLegacy(value: unknown, name: string): LegacyStrategy {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as LegacyStrategy).getRun !== 'function' ||
    typeof (value as LegacyStrategy).reset !== 'function'
  ) {
    throw new RunManagerError('INVALID_OPTIONS', `Strategy '${name}' must provide getRun() and reset() functions`);
  }
  return value as LegacyStrategy;
}

/** Turns anything `register` accepts into a definition. */
export function toStrategyDefinition(name: string, strategy: unknown, options: RegisterOptions = {}): StrategyDefinition {
  if (isDefinition(strategy)) return normaliseDefinition(name, strategy, options);
  if (strategy instanceof StateMachine) {
    return { name, machine: strategy, requiresAuth: options.requiresAuth ?? false, cachesRun: true };
  }
  if (typeof strategy === 'function') {
    const factory = strategy as (...args: unknown[]) => unknown;
    return {
      name,
      machine: legacyStrategyMachine,
      requiresAuth: options.requiresAuth ?? (factory as { requiresAuth?: boolean }).requiresAuth === true,
      cachesRun: (factory as { allowRunIDCache?: boolean }).allowRunIDCache !== false,
      // Arrow functions cannot be constructed; everything else is, as in the original.
      createLegacy: (managerOptions) => {
        let instance: unknown;
        try {
          instance = factory.prototype ? new (factory as unknown as new (o: unknown) => unknown)(managerOptions) : factory(managerOptions);
        } catch (error) {
          // The constructor's only throw is INVALID_OPTIONS, whatever the strategy's own code throws.
          throw new RunManagerError('INVALID_OPTIONS', `Strategy '${name}' could not be constructed: ${describeThrown(error)}`, {
            cause: error,
          });
        }
        return assertLegacy(instance, name);
      },
    };
  }
  if (isPlainObject(strategy) || (strategy !== null && typeof strategy === 'object')) {
    const instance = assertLegacy(strategy, name);
    return {
      name,
      machine: legacyStrategyMachine,
      requiresAuth: options.requiresAuth ?? instance.requiresAuth === true,
      cachesRun: instance.allowRunIDCache !== false,
      createLegacy: () => instance,
    };
  }
  throw invalidOption('strategy', `'${name}' must be a strategy name, a statechart, a strategy definition or a { getRun, reset } strategy`);
}

const builtIns: StrategyDefinition[] = [
  reuseNeverStrategy,
  reusePerSessionStrategy,
  reuseAcrossSessionsStrategy,
  reuseLastInitializedStrategy,
  reuseByTrackingKeyStrategy,
  reuseByTrackingKeyMultiplayerStrategy,
  multiplayerStrategy,
  useSpecificRunStrategy,
  noneStrategy,
  ConditionalCreation,
];

const list: Record<string, StrategyDefinition> = {};

/** The strategy registered under `name` (aliases resolve); `conditional-creation` is also a constructor taking the condition. */
function byName(name: 'conditional-creation'): ConditionalCreationConstructor;
function byName(name: string): StrategyDefinition | undefined;
function byName(name: string): StrategyDefinition | undefined {
  return Object.hasOwn(list, name) ? list[name] : undefined;
}
for (const definition of builtIns) list[definition.name] = definition;
for (const [alias, target] of Object.entries(STRATEGY_ALIASES)) list[alias] = list[target]!;

/** The strategy registry (`RunManager.strategies`): `list`, `byName`, `register`. */
export const strategies = {
  /** Every registered strategy by name, aliases included. */
  list,
  byName,
  /** Adds (or replaces) a strategy; `requiresAuth: true` rejects `UNAUTHORIZED` without any request when nobody is logged in. */
  register(name: string, strategy: StrategyLike, options: RegisterOptions = {}): StrategyDefinition {
    if (typeof name !== 'string' || name.trim() === '') throw invalidOption('name', 'must be a non-empty string');
    if (options !== undefined && !isPlainObject(options)) throw invalidOption('options', 'must be a plain object');
    const definition = toStrategyDefinition(name, strategy, options);
    list[name] = definition;
    return definition;
  },
};

/**
 * The root entry's resolver: a name or alias (default reuse-per-session, or reuse-last-initialized
 * with `initOperation`), or anything `register` takes.
 */
export const namedStrategies: StrategyResolver = {
  resolve(strategy, strategyOptions) {
    if (strategy === null) throw invalidOption('strategy', 'must be a strategy name, a statechart or a strategy object, got null');
    if (strategy === undefined) {
      return byName(strategyOptions?.initOperation !== undefined ? 'reuse-last-initialized' : 'reuse-per-session')!;
    }
    if (typeof strategy === 'string') {
      const found = byName(strategy);
      if (found) return found;
      const known = Object.keys(list);
      const meant = closestKey(strategy, known);
      throw invalidOption(
        'strategy',
        `'${strategy.slice(0, 60)}' is not a known strategy (${meant ? `did you mean ${meant}? ` : ''}known: ${known.join(', ')})`,
      );
    }
    const name = (strategy as { name?: unknown }).name;
    return toStrategyDefinition(typeof name === 'string' && name !== '' ? name : 'custom', strategy);
  },
  otherStrategiesTaking(key, except) {
    const names = new Set<string>();
    for (const definition of Object.values(list)) {
      if (definition.name !== except && definition.optionKeys?.includes(key)) names.add(definition.name);
    }
    return names.size > 0 ? `${key} is an option of ${[...names].join(', ')}` : undefined;
  },
};
