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
import { closestKey, describe, invalidOption, isPlainObject, isProtoKey, rejectUnknownKeys } from './options.js';
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
  /** A new run on every `getRun` (alias `always-new`). */
  REUSE_NEVER: 'reuse-never',
  /** The run the session record points at, else a new one (alias `new-if-missing`); the default. */
  REUSE_PER_SESSION: 'reuse-per-session',
  /** The user's newest run of this model, else a new one (alias `persistent-single-player`). */
  REUSE_ACROSS_SESSIONS: 'reuse-across-sessions',
  /** The newest run carrying the init flag, else a new run that is initialized and flagged. */
  REUSE_LAST_INITIALIZED: 'reuse-last-initialized',
  /** The newest run with the tracking key, else a new one within the run limit. */
  REUSE_BY_TRACKING_KEY: 'reuse-by-tracking-key',
  /** The world's run, tagged with the tracking key, within the run limit. */
  REUSE_BY_TRACKING_KEY_MULTIPLAYER: 'reuse-by-tracking-key-multiplayer',
  /** The current run of the user's world. */
  MULTIPLAYER: 'multiplayer',
  /** The run `strategyOptions.runId` names. */
  USE_SPECIFIC_RUN: 'use-specific-run',
  /** No run: no requests. */
  NONE: 'none',
  /** The cached run, or a new one when `strategyOptions.condition` says so. */
  CONDITIONAL_CREATION: 'conditional-creation',
} as const;

/** A built-in strategy's name. */
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

/** What a strategy value may be, for messages; `register` takes no names. */
const STRATEGY_FORMS = 'a statechart, a strategy definition or a { getRun, reset } strategy (an object, a factory or a class)';

/**
 * Turns anything `register` accepts into a definition named `name`: a definition (copied under the
 * name), a statechart, or a `{ getRun, reset }` strategy as an object, a factory or a class.
 */
export function toStrategyDefinition(name: string, strategy: StrategyLike, options: RegisterOptions = {}): StrategyDefinition {
  const definition = definitionOf(name, strategy, options);
  if (definition) return definition;
  throw invalidOption('strategy', `'${name}' must be ${STRATEGY_FORMS}, got ${describe(strategy)}`);
}

/** The definition for a value of one of the accepted forms, or `undefined` for anything else (callers word the error). */
function definitionOf(name: string, strategy: unknown, options: RegisterOptions): StrategyDefinition | undefined {
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
  if (strategy !== null && typeof strategy === 'object') {
    const instance = assertLegacy(strategy, name);
    return {
      name,
      machine: legacyStrategyMachine,
      requiresAuth: options.requiresAuth ?? instance.requiresAuth === true,
      cachesRun: instance.allowRunIDCache !== false,
      createLegacy: () => instance,
    };
  }
  return undefined;
}

const REGISTER_OPTION_KEYS: readonly string[] = ['requiresAuth', 'replace'];

/** `register`'s refusals name the call, since the registry is reached from anywhere. */
function registerError(problem: string): RunManagerError {
  return new RunManagerError('INVALID_OPTIONS', `strategies.register: ${problem}`);
}

function checkRegisterOptions(options: unknown): RegisterOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw registerError(`options must be a plain object, got ${describe(options)}`);
  try {
    rejectUnknownKeys(options, REGISTER_OPTION_KEYS, 'options');
  } catch (error) {
    throw registerError((error as RunManagerError).message);
  }
  for (const key of REGISTER_OPTION_KEYS) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw registerError(`options.${key} must be true or false, got ${describe(options[key])}`);
    }
  }
  return options;
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

/** Built-in names and aliases: taking one changes what every manager means by it, so it is refused without `replace`. */
const BUILT_IN_NAMES: ReadonlySet<string> = new Set(Object.keys(list));

/** What a built-in name is, for the refusal. */
function builtInName(name: string): string {
  const target = STRATEGY_ALIASES[name];
  if (target !== undefined && Object.hasOwn(STRATEGY_ALIASES, name)) return `'${name}' is a built-in alias of '${target}'`;
  return `'${name}' is a built-in strategy`;
}

/** The strategy registry (`RunManager.strategies`): `list`, `byName`, `register`. */
export const strategies = {
  /** Every registered strategy by name, aliases included. */
  list,
  /** The strategy registered under a name (aliases resolve), or `undefined`. */
  byName,
  /**
   * Adds a strategy under `name` for every manager in this page or process; returns its definition.
   *
   * - `strategy`: a statechart following the strategy contract, a strategy definition, or a
   *   `{ getRun, reset }` strategy as a plain object, a factory or a class (constructed with the manager's options).
   * - `options.requiresAuth: true` rejects `UNAUTHORIZED` without any request when nobody is logged in.
   * - A built-in name or alias (such as `reuse-never` or `always-new`) throws `INVALID_OPTIONS` unless
   *   `options.replace` is `true`: the registry is global, so a silent replacement would change what
   *   every other manager means by it. Replacing a name replaces that name only (replacing
   *   `reuse-never` leaves its alias `always-new` as it was). A name of your own is replaced by
   *   registering it again. Only managers created afterwards use the new strategy.
   *
   * @throws {RunManagerError} `INVALID_OPTIONS` for an empty name, a value of none of the forms above, unknown or non-boolean options, or a built-in name without `replace: true`.
   */
  register(name: string, strategy: StrategyLike, options: RegisterOptions = {}): StrategyDefinition {
    if (typeof name !== 'string' || name.trim() === '') throw registerError(`name must be a non-empty string, got ${describe(name)}`);
    // The registry is a plain object: these names would reach its prototype, not add an entry.
    if (isProtoKey(name)) throw registerError(`name cannot be '${name}'`);
    const checked = checkRegisterOptions(options);
    if (BUILT_IN_NAMES.has(name) && checked.replace !== true) {
      throw registerError(
        `${builtInName(name)}; pass { replace: true } to replace it for every manager created afterwards, or choose another name`,
      );
    }
    const definition = definitionOf(name, strategy, checked);
    if (!definition) {
      throw registerError(`strategy '${name.slice(0, 60)}' must be ${STRATEGY_FORMS}, got ${describe(strategy)}`);
    }
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
    const named = (strategy as { name?: unknown }).name;
    const name = typeof named === 'string' && named !== '' ? named : 'custom';
    const definition = definitionOf(name, strategy, {});
    if (definition) return definition;
    throw invalidOption('strategy', `'${name}' must be a strategy name, ${STRATEGY_FORMS}, got ${describe(strategy)}`);
  },
  otherStrategiesTaking(key, except) {
    const names = new Set<string>();
    for (const definition of Object.values(list)) {
      if (definition.name !== except && definition.optionKeys?.includes(key)) names.add(definition.name);
    }
    return names.size > 0 ? `${key} is an option of ${[...names].join(', ')}` : undefined;
  },
};
