/**
 * Validation of `RunManager` options. Everything wrong is reported as
 * `RunManagerError('INVALID_OPTIONS')` naming the option — the constructor's only throw.
 */
import { RunManagerError } from './errors.js';
import { describe, invalidOption, isPlainObject } from './machines/strategies/options.js';
import { strategies, toStrategyDefinition } from './machines/strategies/registry.js';
import type { RunConfig, StrategyDefinition } from './machines/strategies/types.js';
import { RunService } from './services/run-service.js';
import type { RunManagerOptions } from './run-manager.js';
import type { RunOptions, UserSession } from './types.js';

/** The checked and normalised options. */
export interface ValidOptions {
  strategy: StrategyDefinition;
  strategyOptions: Record<string, unknown>;
  runOptions: RunOptions;
  config: RunConfig;
  sessionKey: string | false;
  lockKey: string;
}

function requireText(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(path, `is required and must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function checkRunOptions(run: unknown): RunOptions {
  if (run instanceof RunService) return { ...(run.config as RunOptions) };
  if (!isPlainObject(run)) throw invalidOption('run', `must be an object of run options or a RunService, got ${describe(run)}`);
  requireText(run.account, 'run.account');
  requireText(run.project, 'run.project');
  requireText(run.model, 'run.model');
  if (run.scope !== undefined && !isPlainObject(run.scope)) throw invalidOption('run.scope', `must be an object, got ${describe(run.scope)}`);
  if (run.token !== undefined && typeof run.token !== 'string') throw invalidOption('run.token', `must be a string, got ${describe(run.token)}`);
  if (run.baseURL !== undefined) {
    try {
      const url = new URL(requireText(run.baseURL, 'run.baseURL'));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(url.protocol);
    } catch (error) {
      if (error instanceof RunManagerError) throw error;
      throw invalidOption('run.baseURL', `must be an absolute http(s) URL, got ${describe(run.baseURL)}`);
    }
  }
  if (run.server !== undefined) {
    if (!isPlainObject(run.server)) throw invalidOption('run.server', `must be an object, got ${describe(run.server)}`);
    const { protocol, host } = run.server;
    if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') {
      throw invalidOption('run.server.protocol', `must be 'http' or 'https', got ${describe(protocol)}`);
    }
    if (host !== undefined) requireText(host, 'run.server.host');
  }
  return run as unknown as RunOptions;
}

function resolveStrategy(options: RunManagerOptions): StrategyDefinition {
  const { strategy, strategyOptions } = options;
  if (strategy === null) throw invalidOption('strategy', 'must be a strategy name, a statechart or a strategy object, got null');
  if (strategy === undefined) {
    const name = strategyOptions && strategyOptions.initOperation !== undefined ? 'reuse-last-initialized' : 'reuse-per-session';
    return strategies.byName(name)!;
  }
  if (typeof strategy === 'string') {
    const found = strategies.byName(strategy);
    if (!found) {
      throw invalidOption('strategy', `'${strategy}' is not a known strategy (known: ${Object.keys(strategies.list).join(', ')})`);
    }
    return found;
  }
  return toStrategyDefinition(typeof (strategy as { name?: unknown }).name === 'string' ? String((strategy as { name: string }).name) || 'custom' : 'custom', strategy);
}

function defaultSessionKey(config: { account?: string; project?: string; model?: string }): string {
  return ['epicenter-scenario', config.account, config.project, config.model].filter(Boolean).join('-');
}

function resolveSessionKey(option: RunManagerOptions['sessionKey'], config: RunConfig): string | false {
  if (option === undefined) return defaultSessionKey(config);
  if (option === false) return false;
  if (typeof option === 'string') return requireText(option, 'sessionKey');
  if (typeof option !== 'function') throw invalidOption('sessionKey', `must be a string, false or a function, got ${describe(option)}`);
  let key: unknown;
  try {
    key = option({ account: config.account, project: config.project, model: config.model });
  } catch (error) {
    throw new RunManagerError('INVALID_OPTIONS', `sessionKey function threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (key === false) return false;
  if (typeof key !== 'string' || key === '') throw invalidOption('sessionKey', `function must return a non-empty string or false, returned ${describe(key)}`);
  return key;
}

/**
 * Checks every option and derives what the manager needs; throws `INVALID_OPTIONS` naming the
 * first problem.
 *
 * @example
 * ```ts
 * validateOptions({ run: { account: 'a', project: 'p', model: 'm' }, strategy: 'nope' });
 * // throws RunManagerError INVALID_OPTIONS: "strategy 'nope' is not a known strategy (known: …)"
 * ```
 */
export function validateOptions(options: RunManagerOptions): ValidOptions {
  if (!isPlainObject(options)) throw invalidOption('options', `must be an object, got ${describe(options)}`);
  const runOptions = checkRunOptions(options.run);
  if (options.strategyOptions !== undefined && !isPlainObject(options.strategyOptions)) {
    throw invalidOption('strategyOptions', `must be an object, got ${describe(options.strategyOptions)}`);
  }
  if (options.session !== undefined && options.session !== null && typeof options.session !== 'function' && !isPlainObject(options.session)) {
    throw invalidOption('session', `must be an object or a function, got ${describe(options.session)}`);
  }
  const store = options.sessionStore as Record<string, unknown> | undefined;
  if (store !== undefined && (store === null || typeof store !== 'object' || ['get', 'set', 'del'].some((m) => typeof store[m] !== 'function'))) {
    throw invalidOption('sessionStore', 'must have get, set and del functions');
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw invalidOption('fetch', `must be an ofetch instance, got ${describe(options.fetch)}`);
  if (options.timeout !== undefined && !(typeof options.timeout === 'number' && options.timeout > 0 && Number.isFinite(options.timeout))) {
    throw invalidOption('timeout', `must be a positive number of milliseconds, got ${describe(options.timeout)}`);
  }
  if (options.retry !== undefined) {
    if (!isPlainObject(options.retry)) throw invalidOption('retry', `must be an object, got ${describe(options.retry)}`);
    for (const key of ['retries', 'baseDelayMs', 'maxDelayMs'] as const) {
      const value = options.retry[key];
      if (value !== undefined && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
        throw invalidOption(`retry.${key}`, `must be a non-negative number, got ${describe(value)}`);
      }
    }
  }
  if (options.inspect !== undefined && typeof options.inspect !== 'function' && !(isPlainObject(options.inspect) || typeof options.inspect === 'object')) {
    throw invalidOption('inspect', `must be an inspection observer, got ${describe(options.inspect)}`);
  }

  const strategy = resolveStrategy(options);
  const merged = { ...(strategy.boundOptions ?? {}), ...(options.strategyOptions ?? {}) };
  const strategyOptions = strategy.prepareOptions ? strategy.prepareOptions(merged) : merged;

  const { token: _token, server: _server, baseURL: _baseURL, ...config } = runOptions;
  const defaultKey = defaultSessionKey(config);
  return {
    strategy,
    strategyOptions,
    runOptions,
    config,
    sessionKey: resolveSessionKey(options.sessionKey, config),
    lockKey: defaultKey,
  };
}

/**
 * The browser's `epicenterjs.session` cookie (the Epicenter.js auth manager's user session), or
 * `undefined` outside a browser or when absent or unreadable.
 *
 * @example
 * ```ts
 * readSessionCookie()?.userId;
 * ```
 */
export function readSessionCookie(): UserSession | undefined {
  const cookie = (globalThis as { document?: { cookie?: unknown } }).document?.cookie;
  if (typeof cookie !== 'string' || cookie === '') return undefined;
  for (const part of cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== 'epicenterjs.session') continue;
    try {
      const value: unknown = JSON.parse(decodeURIComponent(rest.join('=')));
      return isPlainObject(value) ? (value as UserSession) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
