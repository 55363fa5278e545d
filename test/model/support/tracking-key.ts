/**
 * Settings variants shared by the tracking-key strategies: mostly the settings are a function, so
 * the path's script decides what it resolves to (or throws), and `onCreate` is scripted the same
 * way; two inputs give a settings object instead, which the machines take without an actor.
 */
import type { StrategyInput } from '../../../src/machines/strategies/types.js';
import { normaliseSettings, trackingKeyOptions, type TrackingKeyOptions } from '../../../src/machines/strategies/tracking-key.js';
import type { OutcomeVariant, PathScript } from '../../../src/testing/index.js';
import { returns, scriptedCall, throws, type ModelItem } from './http-script.js';

function settingsVariant(label: string, value: Record<string, unknown>): OutcomeVariant<ModelItem> {
  return { label, output: normaliseSettings(value), script: [returns('settings', value)] };
}

/**
 * resolveSettings: unlimited, a limit of 2, a limit of 0 (no run may be created: the only way a
 * getRun whose query found nothing reaches the limit), no tracking key, a settings function that throws.
 */
export const settingsOutcomes: OutcomeVariant<ModelItem>[] = [
  settingsVariant('unlimited', { trackingKey: 'tk', runLimit: null }),
  settingsVariant('limit 2', { trackingKey: 'tk', runLimit: 2 }),
  settingsVariant('limit 0', { trackingKey: 'tk', runLimit: 0 }),
  settingsVariant('no tracking key', { runLimit: 2 }),
  { label: 'throws', error: new Error('settings failed'), script: [throws('settings', new Error('settings failed'))] },
];

/** Options as a manager prepares them; the functions are placeholders until a replay scripts them. */
export function trackingKeyModelOptions(withOnCreate: boolean): TrackingKeyOptions {
  return trackingKeyOptions({ settings: () => ({}), ...(withOnCreate ? { onCreate: () => undefined } : {}) });
}

/** Inputs (a getRun of `base`) whose settings are an object: with a tracking key, and without one. */
export function givenSettingsInputs(base: StrategyInput<TrackingKeyOptions>): Record<string, StrategyInput<TrackingKeyOptions>> {
  return {
    'getRun (settings object)': { ...base, mode: 'getRun', options: trackingKeyOptions({ settings: { trackingKey: 'tk' } }) },
    'getRun (settings object, no tracking key)': { ...base, mode: 'getRun', options: trackingKeyOptions({ settings: { runLimit: 2 } }) },
  };
}

/** The path's input with scripted `settings` when they are a function (and `onCreate` when the input has one). */
export function scriptedOptions(input: StrategyInput<TrackingKeyOptions>, script: PathScript<ModelItem>): TrackingKeyOptions {
  return {
    ...input.options,
    ...(typeof input.options.settings === 'function' ? { settings: () => scriptedCall(script, 'settings') } : {}),
    ...(input.options.onCreate ? { onCreate: () => scriptedCall(script, 'onCreate') } : {}),
  };
}
