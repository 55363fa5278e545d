import { describe, expect, it } from 'vitest';
import {
  attachSettings,
  isLimitReached,
  isLimitUncheckable,
  normaliseRunLimit,
  normaliseSettings,
  trackingKeyCreateParams,
  trackingKeyOptions,
} from '../../../src/machines/strategies/tracking-key.js';

describe('normaliseRunLimit', () => {
  it.each([
    [undefined, Infinity],
    [null, Infinity],
    ['', Infinity],
    ['  ', Infinity],
    [Infinity, Infinity],
    ['Infinity', Infinity],
    [0, 0],
    [3, 3],
    ['3', 3],
    [' 12 ', 12],
    ['0', 0],
  ])('%j → %s', (value, expected) => {
    expect(normaliseRunLimit(value)).toBe(expected);
  });

  it.each([[-1], ['abc'], [1.5], [NaN], [{}], [[]], [true], ['-2'], ['1.5'], [-Infinity]])(
    '%j → INVALID_OPTIONS naming settings.runLimit',
    (value) => {
      expect(() => normaliseRunLimit(value)).toThrow(
        expect.objectContaining({ type: 'INVALID_OPTIONS', message: expect.stringContaining('strategyOptions.settings.runLimit') }),
      );
    },
  );
});

describe('normaliseSettings', () => {
  it('copies the settings and reads the tracking key and limit', () => {
    const settings = { trackingKey: 'tk', runLimit: '2', nested: { a: 1 } };
    const resolved = normaliseSettings(settings);

    expect(resolved).toEqual({ settings, trackingKey: 'tk', runLimit: 2 });
    expect(resolved.settings).not.toBe(settings);
    expect(resolved.settings.nested).not.toBe(settings.nested);
  });

  it('an empty or missing tracking key reads as null (the strategy rejects NO_TRACKING_KEY)', () => {
    expect(normaliseSettings({ trackingKey: '' }).trackingKey).toBeNull();
    expect(normaliseSettings({}).trackingKey).toBeNull();
  });

  it.each([[null], ['tk'], [[1]], [42]])('%j is not a settings object', (value) => {
    expect(() => normaliseSettings(value)).toThrow(expect.objectContaining({ type: 'INVALID_OPTIONS' }));
  });
});

describe('trackingKeyOptions', () => {
  it('fills the object-form defaults and keeps trashed: false in the filter', () => {
    expect(trackingKeyOptions({ settings: { trackingKey: 'tk' }, filter: { saved: true } })).toEqual({
      settings: { trackingKey: 'tk', runLimit: Infinity },
      filter: { trashed: false, saved: true },
    });
  });

  it('keeps a settings function and onCreate as they are (the function is validated when it resolves)', () => {
    const settings = () => ({ runLimit: -5 });
    const onCreate = () => undefined;
    expect(trackingKeyOptions({ settings, onCreate })).toEqual({ settings, filter: { trashed: false }, onCreate });
  });

  it.each([
    [{ settings: 'tk' }, 'strategyOptions.settings'],
    [{ settings: { trackingKey: 'tk', runLimit: 'abc' } }, 'strategyOptions.settings.runLimit'],
    [{ settings: { trackingKey: 5 } }, 'strategyOptions.settings.trackingKey'],
    [{ filter: [] }, 'strategyOptions.filter'],
    [{ filter: { trashed: true } }, 'strategyOptions.filter.trashed'],
    [{ filter: { scope: { trackingKey: 'x' } } }, 'strategyOptions.filter.scope.trackingKey'],
    [{ onCreate: 'nope' }, 'strategyOptions.onCreate'],
  ])('%j → INVALID_OPTIONS naming %s', (options, path) => {
    expect(() => trackingKeyOptions(options)).toThrow(
      expect.objectContaining({ type: 'INVALID_OPTIONS', message: expect.stringContaining(path) }),
    );
  });
});

describe('run-limit rule', () => {
  it.each([
    [Infinity, null, false, false],
    [Infinity, 10, false, false],
    [2, null, true, false],
    [2, 1, false, false],
    [2, 2, false, true],
    [0, 0, false, true],
  ])('limit %s, total %s → uncheckable %s, reached %s', (limit, total, uncheckable, reached) => {
    expect(isLimitUncheckable(limit, total)).toBe(uncheckable);
    expect(isLimitReached(limit, total)).toBe(reached);
  });
});

describe('helpers', () => {
  it('trackingKeyCreateParams puts the tracking key last', () => {
    expect(
      trackingKeyCreateParams({ account: 'a', project: 'p', model: 'm' }, { groupName: 'g' }, 'tk', {
        scope: { trackingKey: 'x', extra: 1 },
      }),
    ).toEqual({ model: 'm', scope: { group: 'g', trackingKey: 'tk', extra: 1 } });
  });

  it('attachSettings attaches a copy', () => {
    const settings = { trackingKey: 'tk' };
    const run = attachSettings({ id: 'r1' }, settings);
    expect(run).toEqual({ id: 'r1', settings });
    expect(run.settings).not.toBe(settings);
  });
});
