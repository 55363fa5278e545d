/**
 * Options are checked strictly: unknown keys and near misses, keys that could reach
 * `Object.prototype`, values JSON cannot send, and values the constructor used to
 * accept that failed later, or that made it throw something other than INVALID_OPTIONS.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { describeThrown } from '../../src/errors.js';
import { createDevToken, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createMemorySessionStore, RunManager, RunManagerError, strategies, type RunManagerOptions } from '../../src/index.js';
import { toMatrix } from '../../src/services/filter.js';
import { checkCreateOptions, checkSendable, closestKey, describe as describeValue } from '../../src/machines/strategies/options.js';
import { deepMerge } from '../../src/machines/strategies/shared.js';
import { normaliseSettings } from '../../src/machines/strategies/tracking-key.js';
import { flattenScope, mergeFilters } from '../../src/services/filter.js';
import { expectRejection, expectThrow } from './helpers.js';

const RUN = { account: 'acme', project: 'sim', model: 'model.py' };
const SESSION = { userId: 'u1', auth_token: createDevToken({ userId: 'u1' }) };

let emulator: Emulator;
const managers: RunManager[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
  // Should a pollution test fail, it must not leak into the other tests of this worker.
  delete (Object.prototype as Record<string, unknown>).polluted;
});

function options(extra: Record<string, unknown> = {}, run: Record<string, unknown> = {}): RunManagerOptions {
  return {
    run: { ...RUN, baseURL: emulator.baseURL, ...run },
    session: SESSION,
    sessionStore: createMemorySessionStore(),
    retry: { retries: 0 },
    ...extra,
  };
}

function track(manager: RunManager): RunManager {
  managers.push(manager);
  return manager;
}

/** Expects the constructor to throw INVALID_OPTIONS matching `message`, with no request sent. */
function refused(given: unknown, message: RegExp): RunManagerError {
  emulator.clearLog();
  const error = expectThrow(() => track(new RunManager(given as RunManagerOptions)), 'INVALID_OPTIONS', message);
  expect(emulator.requests).toEqual([]);
  return error;
}

/** Whatever happens, the constructor either constructs or throws INVALID_OPTIONS — nothing else. */
function constructsOrRefuses(given: unknown): RunManagerError | undefined {
  try {
    track(new RunManager(given as RunManagerOptions));
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(RunManagerError);
    expect((error as RunManagerError).type).toBe('INVALID_OPTIONS');
    expect(typeof (error as RunManagerError).message).toBe('string');
    return error as RunManagerError;
  }
}

const hostile = () => JSON.parse('{"__proto__":{"polluted":1}}') as Record<string, never>;

describe('unknown option keys are refused, naming the key they likely meant', () => {
  it('top-level typos (stratgy, sesion) name the intended key', () => {
    refused({ ...options(), stratgy: 'reuse-never' }, /^stratgy is not an option \(did you mean strategy\?\)$/);
    refused({ ...options(), sesion: SESSION }, /^sesion is not an option \(did you mean session\?\)$/);
    refused(
      { ...options(), session_store: createMemorySessionStore() },
      /^session_store is not an option \(did you mean sessionStore\?\)$/,
    );
    refused(
      { ...options(), colour: 'blue' },
      /^colour is not an option \(options: run, strategy, strategyOptions, .*coordinator, onSession\)$/,
    );
  });

  it('unknown keys of run, run.server and retry are refused with their full path', () => {
    refused(options({}, { acount: 'acme' }), /^run\.acount is not an option \(did you mean account\?\)$/);
    refused(options({}, { baseUrl: emulator.baseURL, baseURL: undefined }), /^run\.baseUrl is not an option \(did you mean baseURL\?\)$/);
    refused(options({}, { id: 'r1' }), /^run\.id is not an option \(options: account, project, model/);
    refused(
      options({}, { baseURL: undefined, server: { hots: 'localhost' } }),
      /^run\.server\.hots is not an option \(did you mean host\?\)$/,
    );
    refused(options({ retry: { retrys: 1 } }), /^retry\.retrys is not an option \(did you mean retries\?\)$/);
    refused(options({ retry: { delay: 1 } }), /^retry\.delay is not an option \(options: retries, baseDelayMs, maxDelayMs\)$/);
  });

  it('every run key RunOptions declares is accepted', () => {
    expect(() =>
      track(
        new RunManager(
          options(
            {},
            {
              scope: { region: 'eu' },
              files: { 'data.csv': 'a,b' },
              cinFiles: { 'x.cin': 'x' },
              ephemeral: true,
              sensitivityMode: 'off',
              server: { host: 'localhost:8080', protocol: 'http', versionPath: 'v2' },
              token: 'secret',
            },
          ),
        ),
      ),
    ).not.toThrow();
  });

  it('strategyOptions.setings names the strategy and the intended key', () => {
    refused(
      options({ strategy: 'reuse-by-tracking-key', strategyOptions: { setings: { trackingKey: 'k' } } }),
      /^strategyOptions\.setings is not an option of reuse-by-tracking-key \(did you mean settings\?\)$/,
    );
  });

  it('a key another strategy uses is unknown here, and the message says who takes it', () => {
    refused(
      options({ strategy: 'reuse-per-session', strategyOptions: { initOperation: 'init' } }),
      /^strategyOptions\.initOperation is not an option of reuse-per-session \(initOperation is an option of reuse-last-initialized\)$/,
    );
    refused(
      options({ strategy: 'use-specific-run', strategyOptions: { runId: 'r1', filter: { saved: true } } }),
      /^strategyOptions\.filter is not an option of use-specific-run \(filter is an option of .*reuse-across-sessions/,
    );
    refused(
      options({ strategy: 'reuse-never', strategyOptions: { nothing: 1 } }),
      /^strategyOptions\.nothing is not an option of reuse-never \(it takes none\)$/,
    );
    refused(
      options({ strategy: 'multiplayer', strategyOptions: { settings: {} } }),
      /^strategyOptions\.settings is not an option of multiplayer \(settings is an option of reuse-by-tracking-key/,
    );
  });

  it('strategyOptions.initOperation without a strategy still selects reuse-last-initialized', () => {
    expect(track(new RunManager(options({ strategyOptions: { initOperation: 'init' } }))).strategy.name).toBe('reuse-last-initialized');
  });

  it('strategyOptions.scope of reuse-last-initialized takes only scopeByUser and scopeByGroup', () => {
    refused(
      options({ strategyOptions: { initOperation: 'init', scope: { scopeByUsr: false } } }),
      /^strategyOptions\.scope\.scopeByUsr is not an option of reuse-last-initialized \(did you mean scopeByUser\?\)$/,
    );
  });

  it('each built-in strategy lists exactly the keys it reads', () => {
    const keys = Object.fromEntries(
      [...new Set(Object.values(strategies.list))].map((definition) => [definition.name, definition.optionKeys]),
    );
    expect(keys).toMatchObject({
      'reuse-never': [],
      'reuse-per-session': [],
      'reuse-across-sessions': ['filter'],
      'reuse-last-initialized': ['initOperation', 'flag', 'scope'],
      'reuse-by-tracking-key': ['settings', 'filter', 'onCreate'],
      'reuse-by-tracking-key-multiplayer': ['settings', 'filter', 'onCreate', 'selfAssign'],
      multiplayer: ['selfAssign'],
      'use-specific-run': ['runId'],
      none: [],
      'conditional-creation': ['condition'],
    });
  });

  it.each([
    ['runlimit', 'runLimit'],
    ['run_limit', 'runLimit'],
    ['RunLimit', 'runLimit'],
    ['runLimt', 'runLimit'],
    ['trackingkey', 'trackingKey'],
    ['tracking-key', 'trackingKey'],
    ['trakingKey', 'trackingKey'],
  ])('settings.%s is refused as a near miss of %s (object form, at construction)', (key, meant) => {
    refused(
      options({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', [key]: 1 } } }),
      new RegExp(`^strategyOptions\\.settings\\.${key}: did you mean ${meant}\\?`),
    );
  });

  it('the settings are otherwise the app’s own: other fields are kept on run.settings', async () => {
    emulator.reset();
    const rm = track(
      new RunManager(
        options({
          strategy: 'reuse-by-tracking-key',
          strategyOptions: { settings: { trackingKey: 'k', runLimit: 2, label: 'week 1', limit: 3 } },
        }),
      ),
    );
    const run = await rm.getRun();
    expect(run.settings).toMatchObject({ trackingKey: 'k', runLimit: 2, label: 'week 1', limit: 3 });
  });

  it('a settings function resolving to a near miss rejects INVALID_OPTIONS before any write', async () => {
    emulator.reset();
    emulator.clearLog();
    const rm = track(
      new RunManager(
        options({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: async () => ({ trackingKey: 'k', runlimit: 1 }) } }),
      ),
    );
    await expectRejection(rm.getRun(), 'INVALID_OPTIONS', /^strategyOptions\.settings\.runlimit: did you mean runLimit\?/);
    expect(emulator.runs()).toEqual([]);
    expect(emulator.requests.filter((request) => request.method !== 'GET')).toEqual([]);
  });

  it("a misspelt limit — settings { trackingKey: 'k', runlimit: 1 } is refused; spelt right, the limit holds", async () => {
    emulator.reset();
    const sessionStore = createMemorySessionStore();
    const base = {
      run: { ...RUN, baseURL: emulator.baseURL },
      strategy: 'reuse-by-tracking-key',
      session: { userId: 'u1', auth_token: createDevToken({ userId: 'u1' }) },
      sessionStore,
    };
    refused(
      { ...base, strategyOptions: { settings: { trackingKey: 'k', runlimit: 1 } } },
      /^strategyOptions\.settings\.runlimit: did you mean runLimit\?/,
    );

    const rm = track(new RunManager({ ...base, strategyOptions: { settings: { trackingKey: 'k', runLimit: 1 } } }));
    await rm.getRun();
    await expectRejection(rm.reset(), 'RUN_LIMIT_REACHED');
    await expectRejection(rm.reset(), 'RUN_LIMIT_REACHED');
    expect(emulator.runs()).toHaveLength(1);
  });

  it('a custom definition with optionKeys is checked; without them its options pass through', () => {
    const machine = setup({}).createMachine({ initial: 'ready', states: { ready: { type: 'final' } } });
    const checked = { name: 'checked', machine, requiresAuth: false, cachesRun: true, optionKeys: ['colour'] };
    refused(
      options({ strategy: checked, strategyOptions: { color: 'red' } }),
      /^strategyOptions\.color is not an option of checked \(did you mean colour\?\)$/,
    );
    expect(() => track(new RunManager(options({ strategy: checked, strategyOptions: { colour: 'red' } })))).not.toThrow();

    const unchecked = { name: 'unchecked', machine, requiresAuth: false, cachesRun: true };
    expect(() => track(new RunManager(options({ strategy: unchecked, strategyOptions: { anything: { goes: 1 } } })))).not.toThrow();
    refused(options({ strategy: unchecked, strategyOptions: { deep: hostile() } }), /^strategyOptions\.deep\.__proto__ is not allowed/);

    const legacy = { getRun: async () => ({ id: 'r1' }), reset: async () => ({ id: 'r1' }) };
    expect(() => track(new RunManager(options({ strategy: legacy, strategyOptions: { whatever: true } })))).not.toThrow();
    refused(
      options({ strategy: { ...checked, optionKeys: 'colour' } }),
      /^strategy 'checked' has optionKeys that are not an array of strings/,
    );
  });

  it('conditional-creation constructed with a bound condition keeps working', async () => {
    emulator.reset();
    const Conditional = strategies.byName('conditional-creation');
    const condition = () => false;
    const rm = track(new RunManager(options({ strategy: new Conditional(condition) })));
    expect(rm.strategy.optionKeys).toEqual(['condition']);
    expect((await rm.getRun()).freshlyCreated).toBe(true);
    refused(
      options({ strategy: new Conditional(condition), strategyOptions: { conditon: condition } }),
      /^strategyOptions\.conditon is not an option of conditional-creation \(did you mean condition\?\)$/,
    );
  });

  it('the suggestion rule — case and separators, then 2 edits (keys of 5+ characters) or 1 (shorter)', () => {
    expect(closestKey('SESSION_KEY', ['session', 'sessionKey'])).toBe('sessionKey');
    expect(closestKey('run-limit', ['runLimit'])).toBe('runLimit');
    expect(closestKey('stratgy', ['run', 'strategy'])).toBe('strategy');
    expect(closestKey('strtgy', ['strategy'])).toBe('strategy'); // 2 edits, 8 letters
    expect(closestKey('strgy', ['strategy'])).toBeUndefined(); // 3 edits
    expect(closestKey('rnu', ['run'])).toBe('run'); // swapping neighbours is 1 edit
    expect(closestKey('nur', ['run'])).toBeUndefined(); // 2 edits from a 3-letter key
    expect(closestKey('ru', ['run'])).toBe('run');
    expect(closestKey('flga', ['flag'])).toBe('flag'); // adjacent swap
    expect(closestKey('colour', ['run', 'strategy'])).toBeUndefined();
  });
});

describe('__proto__, constructor and prototype keys never reach Object.prototype', () => {
  it('the merge itself skips proto keys and defines own properties', () => {
    const merged = mergeFilters(
      { scope: { group: 'g1' } },
      hostile(),
      { scope: hostile() },
      JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(merged.scope)).toBe(Object.prototype);
    expect(merged).toEqual({ scope: { group: 'g1' } });

    const files = deepMerge<Record<string, unknown>>({ files: { a: 1 } }, { files: hostile() });
    expect(Object.getPrototypeOf(files.files)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(flattenScope(hostile()))).toBe(Object.prototype);
  });

  it('the merge keeps Dates and class instances as they are instead of copying them into {}', () => {
    const created = new Date(0);
    expect(deepMerge<Record<string, unknown>>({ created }).created).toBe(created);
  });

  it.each([
    [
      'strategyOptions.filter',
      { strategy: 'reuse-across-sessions', strategyOptions: { filter: hostile() } },
      {},
      /^strategyOptions\.filter\.__proto__ is not allowed/,
    ],
    [
      'strategyOptions.filter (nested)',
      { strategy: 'reuse-across-sessions', strategyOptions: { filter: { scope: hostile() } } },
      {},
      /^strategyOptions\.filter\.scope\.__proto__ is not allowed/,
    ],
    [
      'strategyOptions.flag',
      { strategyOptions: { initOperation: 'init', flag: hostile() } },
      {},
      /^strategyOptions\.flag\.__proto__ is not allowed/,
    ],
    [
      'tracking-key settings',
      { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', ...hostile() } } },
      {},
      /^strategyOptions\.settings\.__proto__ is not allowed/,
    ],
    [
      'tracking-key settings (nested)',
      { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', extra: hostile() } } },
      {},
      /^strategyOptions\.settings\.extra\.__proto__ is not allowed/,
    ],
    ['run.scope', {}, { scope: hostile() }, /^run\.scope\.__proto__ is not allowed/],
    ['run.files', {}, { files: hostile() }, /^run\.files\.__proto__ is not allowed/],
    ['run.cinFiles', {}, { cinFiles: { a: hostile() } }, /^run\.cinFiles\.a\.__proto__ is not allowed/],
    [
      'a constructor key in run.scope',
      {},
      { scope: JSON.parse('{"constructor":{"prototype":{"polluted":1}}}') },
      /^run\.scope\.constructor is not allowed/,
    ],
    ['a top-level __proto__ key', hostile(), {}, /^__proto__ is not allowed/],
  ])('%s with an own __proto__ key is refused at construction', (_name, extra, run, message) => {
    refused(options(extra, run), message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('tracking-key settings from a settings function with __proto__ reject INVALID_OPTIONS', async () => {
    emulator.reset();
    const rm = track(
      new RunManager(
        options({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: () => ({ trackingKey: 'k', ...hostile() }) } }),
      ),
    );
    await expectRejection(rm.getRun(), 'INVALID_OPTIONS', /^strategyOptions\.settings\.__proto__ is not allowed/);
    expect(() => normaliseSettings({ trackingKey: 'k', nested: hostile() })).toThrow(
      /strategyOptions\.settings\.nested\.__proto__ is not allowed/,
    );
    expect(emulator.runs()).toEqual([]);
  });

  it('checkCreateOptions refuses proto keys at any depth', () => {
    expectThrow(() => checkCreateOptions(hostile(), 'createOptions'), 'INVALID_OPTIONS', /^createOptions\.__proto__ is not allowed/);
    expectThrow(
      () => checkCreateOptions({ scope: { a: [hostile()] } }, 'createOptions'),
      'INVALID_OPTIONS',
      /^createOptions\.scope\.a\[0\]\.__proto__ is not allowed/,
    );
    expectThrow(
      () => checkCreateOptions(JSON.parse('{"prototype":1}'), 'reset(createOptions)'),
      'INVALID_OPTIONS',
      /^reset\(createOptions\)\.prototype is not allowed/,
    );
  });

  it('after every hostile input, ({}).polluted is undefined and a new RunManager still constructs', async () => {
    const attempts: Array<() => unknown> = [
      () => new RunManager(options({ strategy: 'reuse-across-sessions', strategyOptions: { filter: hostile() } })),
      () => new RunManager(options({ strategyOptions: { initOperation: 'init', flag: hostile() } })),
      () =>
        new RunManager(options({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', ...hostile() } } })),
      () => new RunManager(options({}, { scope: hostile() })),
      () => new RunManager(options({}, { files: hostile() })),
      () => checkCreateOptions(hostile(), 'createOptions'),
      () => mergeFilters(hostile(), { __proto__: hostile() }, { scope: hostile() }),
      () => deepMerge({ a: {} }, JSON.parse('{"a":{"__proto__":{"polluted":1}}}')),
      () => normaliseSettings(hostile()),
      () => toMatrix(hostile()),
    ];
    for (const attempt of attempts) {
      try {
        attempt();
      } catch {
        // Refusing is fine; polluting is not.
      }
    }
    emulator.reset();
    const rm = track(
      new RunManager(
        options({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: () => ({ trackingKey: 'k', ...hostile() }) } }),
      ),
    );
    await rm.getRun().catch(() => undefined);
    const reuse = track(new RunManager(options({ strategy: 'reuse-never' })));
    await reuse.getRun(undefined, hostile()).catch(() => undefined);
    await reuse.reset(hostile()).catch(() => undefined);

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(() => track(new RunManager(options()))).not.toThrow();
  });
});

describe('values JSON cannot send are INVALID_OPTIONS before any request', () => {
  const cyclic = (): Record<string, unknown> => {
    const node: Record<string, unknown> = { a: 1 };
    node.self = node;
    return node;
  };

  it.each([
    ['a BigInt', { n: 10n }, /^createOptions\.n is a BigInt/],
    ['a function', { f: () => 1 }, /^createOptions\.f is a function/],
    ['a symbol', { s: Symbol('x') }, /^createOptions\.s is a symbol/],
    ['a cycle', { scope: cyclic() }, /^createOptions\.scope\.self refers back to createOptions\.scope/],
    ['NaN', { x: Number.NaN }, /^createOptions\.x must be a finite number, got NaN \(JSON would send null\)/],
    ['Infinity in an array', { x: [1, Infinity] }, /^createOptions\.x\[1\] must be a finite number/],
    ['a Map', { m: new Map([[1, 2]]) }, /^createOptions\.m is a Map instance/],
    ['an invalid Date', { d: new Date(Number.NaN) }, /^createOptions\.d is an invalid Date/],
    [
      'nesting deeper than 32',
      { deep: Array.from({ length: 40 }).reduce<unknown>((inner) => ({ inner }), 1) },
      /is nested more than 32 levels deep/,
    ],
  ])('checkCreateOptions refuses %s', (_name, value, message) => {
    expectThrow(() => checkCreateOptions(value, 'createOptions'), 'INVALID_OPTIONS', message);
  });

  it('checkCreateOptions accepts what JSON sends as meant, and refuses non-objects', () => {
    const shared = { a: 1 };
    const value = {
      when: new Date(0),
      one: shared,
      two: shared,
      skip: undefined,
      none: null,
      list: [1, 'a', true],
      money: { toJSON: () => '1.00' },
    };
    const checked = checkCreateOptions(value, 'createOptions')!;
    expect(checked).toEqual(value);
    // A copy: what was checked is what is sent, whatever the caller changes afterwards.
    expect(checked).not.toBe(value);
    shared.a = 2;
    expect(checked.one).toEqual({ a: 1 });
    expect(checkCreateOptions(undefined, 'createOptions')).toBeUndefined();
    expectThrow(() => checkCreateOptions([1], 'createOptions'), 'INVALID_OPTIONS', /^createOptions must be a plain object, got an array/);
    expectThrow(() => checkCreateOptions(null, 'createOptions'), 'INVALID_OPTIONS', /^createOptions must be a plain object, got null/);
    const hostileGetter = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw Object.create(null);
      },
    });
    expectThrow(
      () => checkCreateOptions(hostileGetter, 'createOptions'),
      'INVALID_OPTIONS',
      /^createOptions could not be read: a thrown object/,
    );
  });

  it('checkSendable names the path of what cannot be sent', () => {
    expect(() => checkSendable({ a: [{ b: 1n }] }, 'run.files')).toThrow(/^run\.files\.a\[0\]\.b is a BigInt/);
    expect(() => checkSendable({ 'odd key': () => 1 }, 'x')).toThrow(/^x\["odd key"\] is a function/);
    expect(() => checkSendable('text', 'x')).not.toThrow();
  });

  it.each([
    ['run.files with a BigInt', {}, { files: { size: 10n } }, /^run\.files\.size is a BigInt/],
    ['run.files with a cycle', {}, { files: cyclic() }, /^run\.files\.self refers back to run\.files/],
    ['run.cinFiles with a function', {}, { cinFiles: { f: () => 1 } }, /^run\.cinFiles\.f is a function/],
    ['run.scope with a BigInt', {}, { scope: { region: 1n } }, /^run\.scope\.region /],
    ['run.scope with a cycle', {}, { scope: cyclic() }, /^run\.scope\.self refers back to itself/],
    ['run.sensitivityMode with a BigInt', {}, { sensitivityMode: 1n }, /^run\.sensitivityMode is a BigInt/],
    [
      'strategyOptions.filter with a BigInt',
      { strategy: 'reuse-across-sessions', strategyOptions: { filter: { n: 1n } } },
      {},
      /^strategyOptions\.filter\.n /,
    ],
    [
      'strategyOptions.flag with a cycle',
      { strategyOptions: { initOperation: 'init', flag: cyclic() } },
      {},
      /^strategyOptions\.flag\.self refers back to itself/,
    ],
    [
      'settings with a BigInt field',
      { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', week: 1n } } },
      {},
      /^strategyOptions\.settings\.week is a BigInt/,
    ],
    [
      'settings with a cycle',
      { strategy: 'reuse-by-tracking-key', strategyOptions: { settings: { trackingKey: 'k', more: cyclic() } } },
      {},
      /^strategyOptions\.settings\.more\.self refers back to strategyOptions\.settings\.more/,
    ],
    [
      'initOperation arguments with a BigInt',
      { strategyOptions: { initOperation: [{ step: [1n] }] } },
      {},
      /^strategyOptions\.initOperation\[0\]\.step\[0\] is a BigInt/,
    ],
  ])('%s is refused at construction, before any request', (_name, extra, run, message) => {
    refused(options(extra, run), message);
  });

  it('a settings function resolving to a BigInt field rejects INVALID_OPTIONS, not a network error', async () => {
    emulator.reset();
    const rm = track(
      new RunManager(options({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: () => ({ trackingKey: 'k', n: 1n }) } })),
    );
    await expectRejection(rm.getRun(), 'INVALID_OPTIONS', /^strategyOptions\.settings\.n is a BigInt/);
    expect(emulator.runs()).toEqual([]);
  });

  it('a Date in run.files is fine (sent as ISO text)', async () => {
    emulator.reset();
    const rm = track(new RunManager(options({ strategy: 'reuse-never' }, { files: { created: new Date(0) } })));
    expect((await rm.getRun()).id).toEqual(expect.any(String));
  });
});

describe('the constructor throws only INVALID_OPTIONS, and what it accepts does not fail later', () => {
  it('run.server.versionPath must be a string path such as v2', () => {
    refused(
      options({}, { baseURL: undefined, server: { versionPath: 5 } }),
      /^run\.server\.versionPath must be a string such as 'v2', got the number 5/,
    );
    for (const bad of ['..', 'v2?x=1', 'a b', 'v2//x', '%2e']) {
      refused(options({}, { baseURL: undefined, server: { versionPath: bad } }), /^run\.server\.versionPath must be URL path segments/);
    }
    for (const good of ['v2', 'v2/', '/v2/', 'api/v2', '']) {
      expect(() =>
        track(new RunManager(options({}, { baseURL: undefined, server: { host: 'localhost', versionPath: good } }))),
      ).not.toThrow();
    }
  });

  it('run.server.host must be a host name with an optional port', () => {
    for (const bad of ['a b', 'host/path', 'user@host', 'host:99999', 'host:', '-host', 'http://host', '']) {
      refused(options({}, { baseURL: undefined, server: { host: bad } }), /^run\.server\.host /);
    }
    for (const good of ['api.forio.com', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'my_host.internal']) {
      expect(() => track(new RunManager(options({}, { baseURL: undefined, server: { host: good } })))).not.toThrow();
    }
  });

  it('a throwing sessionKey function rejects getRun with INVALID_OPTIONS and a message, whatever it throws, before any request', async () => {
    const unprintable = {
      toString() {
        throw new Error('no');
      },
    };
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const rejected = async (sessionKey: () => unknown, message: RegExp) => {
      emulator.clearLog();
      const manager = track(new RunManager(options({ sessionKey })));
      const error = await expectRejection(manager.getRun(), 'INVALID_OPTIONS', message);
      expect(emulator.requests).toEqual([]);
      return error;
    };
    for (const thrown of [Object.create(null), unprintable, revoked.proxy, Symbol('s'), undefined, 42]) {
      const error = await rejected(() => {
        throw thrown;
      }, /^sessionKey function threw: /);
      expect(error.message.length).toBeGreaterThan('sessionKey function threw: '.length);
    }
    await rejected(() => {
      throw new Error('no key for you');
    }, /^sessionKey function threw: no key for you$/);
    await rejected(() => '', /^sessionKey function must return a non-empty string or false, returned /);
  });

  it("a filter key the encoder refuses ('<', '>') is refused at construction", () => {
    refused(
      options({ strategy: 'reuse-across-sessions', strategyOptions: { filter: { 'a<b': 1 } } }),
      /^strategyOptions\.filter\["a<b"\] cannot contain '<' or '>'/,
    );
    refused(
      options({ strategy: 'reuse-across-sessions', strategyOptions: { filter: { scope: { 'x>': 1 } } } }),
      /^strategyOptions\.filter\.scope\["x>"\] cannot contain/,
    );
    refused(options({}, { scope: { 'a>b': 'x' } }), /^run\.scope\["a>b"\] cannot contain/);
    refused(options({ strategy: 'reuse-across-sessions', strategyOptions: { filter: { ['a\uD800']: 1 } } }), /is not a valid Unicode key/);
    refused(
      options({ strategy: 'reuse-across-sessions', strategyOptions: { filter: { a: 'x\uDC00' } } }),
      /^strategyOptions\.filter\.a is not valid Unicode/,
    );
  });

  it('a non-ASCII filter key is accepted and percent-encoded, and the query works', async () => {
    emulator.reset();
    const rm = track(
      new RunManager(options({ strategy: 'reuse-across-sessions', strategyOptions: { filter: { 'scope.‹region›': 'eu' } } })),
    );
    const run = await rm.getRun();
    expect(run.id).toEqual(expect.any(String));
    expect(toMatrix({ '‹': 1 })).toBe(';%E2%80%B9=1');
  });

  it.each([['..'], ['.'], [''], ['   ']])('use-specific-run runId %j is refused at construction', (runId) => {
    refused(options({ strategy: 'use-specific-run', strategyOptions: { runId } }), /^strategyOptions\.runId /);
  });

  it("run.account and run.project of '..' are refused (they are URL path segments)", () => {
    refused(options({}, { account: '..' }), /^run\.account cannot be '\.\.'/);
    refused(options({}, { project: '.' }), /^run\.project cannot be '\.'/);
  });

  it('a cyclic initOperation is INVALID_OPTIONS at construction', () => {
    const operation: Record<string, unknown> = { name: 'init' };
    operation.params = [operation];
    refused(
      options({ strategyOptions: { initOperation: [operation] } }),
      /^strategyOptions\.initOperation\[0\]\.params\[0\] refers back to strategyOptions\.initOperation\[0\]/,
    );
  });

  it('coordinator must be an object with an acquire function', () => {
    refused(options({ coordinator: 5 }), /^coordinator must be an object with an acquire\(name, signal\) function, got the number 5/);
    refused(options({ coordinator: {} }), /^coordinator must be an object with an acquire/);
    refused(options({ coordinator: null }), /^coordinator must be an object with an acquire/);
    expect(() => track(new RunManager(options({ coordinator: { acquire: async () => () => undefined } })))).not.toThrow();
  });

  it('inspect must be a function or an object with a next function', () => {
    refused(
      options({ inspect: {} }),
      /^inspect must be an inspection observer, got an object \(a function, or an object with a next function\)/,
    );
    refused(options({ inspect: 'yes' }), /^inspect must be an inspection observer/);
    expect(() => track(new RunManager(options({ inspect: () => undefined })))).not.toThrow();
    expect(() => track(new RunManager(options({ inspect: { next: () => undefined } })))).not.toThrow();
  });

  it('a hostile getter or proxy anywhere in the options becomes INVALID_OPTIONS naming what was read', () => {
    const throwing = (value: unknown) => ({
      enumerable: true,
      get() {
        throw value;
      },
    });
    refused(Object.defineProperty(options(), 'timeout', throwing(new Error('nope'))), /^timeout could not be read: nope$/);
    const withGetter = options();
    Object.defineProperty(withGetter.run, 'account', throwing(Object.create(null)));
    refused(withGetter, /^run\.account could not be read: a thrown object$/);
    const trap = () => {
      throw new TypeError('trap');
    };
    refused(new Proxy(options(), { ownKeys: trap }), /^options could not be read: trap$/);
    refused(new Proxy(options(), { getPrototypeOf: trap }), /^options could not be read: trap$/);
    refused(options({ strategyOptions: new Proxy({}, { getPrototypeOf: trap }) }), /^strategyOptions could not be read: trap$/);
    refused(
      options({}, { scope: new Proxy({}, { ownKeys: trap, getPrototypeOf: () => Object.prototype }) }),
      /^run\.scope could not be read: trap$/,
    );
    refused(
      options({
        strategy: 'reuse-by-tracking-key',
        strategyOptions: { settings: Object.defineProperty({}, 'trackingKey', throwing('later')) },
      }),
      /could not be read: later$/,
    );
  });

  it("a custom strategy's failing prepareOptions or legacy factory is INVALID_OPTIONS", () => {
    const machine = setup({}).createMachine({ initial: 'ready', states: { ready: { type: 'final' } } });
    const prepareThrows = {
      name: 'picky',
      machine,
      requiresAuth: false,
      cachesRun: true,
      prepareOptions: () => {
        throw new TypeError('cannot read x of undefined');
      },
    };
    refused(options({ strategy: prepareThrows }), /^strategyOptions were refused by strategy 'picky': cannot read x of undefined$/);
    function Broken(): never {
      throw Object.create(null);
    }
    refused(options({ strategy: Broken }), /^Strategy 'Broken' could not be constructed: a thrown object$/);
  });

  it('random hostile option sets never make the constructor throw anything but INVALID_OPTIONS', () => {
    const values: unknown[] = [
      undefined,
      null,
      0,
      -1,
      NaN,
      Infinity,
      10n,
      '',
      ' ',
      '..',
      'a b',
      '\uD800',
      Symbol('s'),
      () => undefined,
      [],
      [1],
      {},
      Object.create(null),
      new Date(NaN),
      new Map(),
      hostile(),
      new Proxy(
        {},
        {
          getPrototypeOf: () => {
            throw new Error('x');
          },
        },
      ),
    ];
    const paths: Array<(value: unknown) => unknown> = [
      (v) => v,
      (v) => ({ run: v }),
      (v) => options({}, { account: v }),
      (v) => options({}, { model: v }),
      (v) => options({}, { scope: v }),
      (v) => options({}, { files: v }),
      (v) => options({}, { token: v }),
      (v) => options({}, { baseURL: v }),
      (v) => options({}, { baseURL: undefined, server: v }),
      (v) => options({}, { baseURL: undefined, server: { host: v } }),
      (v) => options({}, { baseURL: undefined, server: { versionPath: v } }),
      (v) => options({ strategy: v }),
      (v) => options({ strategyOptions: v }),
      (v) => options({ strategyOptions: { initOperation: v } }),
      (v) => options({ strategy: 'reuse-across-sessions', strategyOptions: { filter: v } }),
      (v) => options({ strategy: 'reuse-by-tracking-key', strategyOptions: { settings: v } }),
      (v) => options({ strategy: 'use-specific-run', strategyOptions: { runId: v } }),
      (v) => options({ strategy: 'conditional-creation', strategyOptions: { condition: v } }),
      (v) => options({ sessionKey: v }),
      (v) => options({ sessionKey: () => v }),
      (v) => options({ session: v }),
      (v) => options({ sessionStore: v }),
      (v) => options({ fetch: v }),
      (v) => options({ inspect: v }),
      (v) => options({ timeout: v }),
      (v) => options({ retry: v }),
      (v) => options({ retry: { retries: v } }),
      (v) => options({ coordinator: v }),
    ];
    for (const path of paths) for (const value of values) constructsOrRefuses(path(value));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('describe and describeThrown never throw, whatever they are given', () => {
    const revoked = Proxy.revocable([], {});
    revoked.revoke();
    const nasty = [
      revoked.proxy,
      Object.create(null),
      Symbol('s'),
      10n,
      {
        toString: () => {
          throw new Error('x');
        },
      },
    ];
    for (const value of nasty) {
      expect(typeof describeValue(value)).toBe('string');
      expect(typeof describeThrown(value)).toBe('string');
    }
    const badMessage = Object.defineProperty(new Error('x'), 'message', {
      get: () => {
        throw new Error('y');
      },
    });
    expect(describeThrown(badMessage)).toBe('a thrown value that cannot be printed');
  });
});
