/**
 * The entries: `run-lifecycle/core` takes a strategy definition and behaves exactly as the root
 * entry given that strategy's name; `run-lifecycle/strategies` holds every built-in definition.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDevToken, startEmulator, type Emulator } from '../src/emulator/index.js';
import * as core from '../src/core.js';
import * as root from '../src/index.js';
import * as kit from '../src/strategies.js';
import * as v3 from '../src/v3.js';
import { expectThrow } from './reliability/helpers.js';

const session = { userId: 'u1', groupName: 'g1', auth_token: createDevToken({ userId: 'u1' }) };
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

const definitions = {
  'reuse-never': kit.reuseNever,
  'reuse-per-session': kit.reusePerSession,
  'reuse-across-sessions': kit.reuseAcrossSessions,
  'reuse-last-initialized': kit.reuseLastInitialized,
  'reuse-by-tracking-key': kit.reuseByTrackingKey,
  'reuse-by-tracking-key-multiplayer': kit.reuseByTrackingKeyMultiplayer,
  multiplayer: kit.multiplayer,
  'use-specific-run': kit.useSpecificRun,
  none: kit.none,
  'conditional-creation': kit.conditionalCreation,
};

describe('run-lifecycle/strategies', () => {
  it('exports every built-in strategy as a definition under its own name', () => {
    expect(Object.keys(definitions).sort()).toEqual(Object.values(root.STRATEGY).sort());
    for (const [name, definition] of Object.entries(definitions)) {
      expect(definition.name).toBe(name);
      expect(root.strategies.byName(name)).toBe(definition);
    }
  });
});

describe('run-lifecycle/core', () => {
  async function trace(
    make: (options: { strategyOptions: Record<string, unknown> }) => {
      getRun(): Promise<unknown>;
      reset(): Promise<unknown>;
      stop(): void;
    },
  ) {
    emulator.reset();
    const manager = make({ strategyOptions: { filter: { saved: false } } });
    try {
      const first = (await manager.getRun()) as { freshlyCreated: boolean };
      const again = (await manager.getRun()) as { freshlyCreated: boolean };
      const reset = (await manager.reset()) as { freshlyCreated: boolean };
      return {
        fresh: [first.freshlyCreated, again.freshlyCreated, reset.freshlyCreated],
        requests: emulator.requests.map((entry) => `${entry.method} ${entry.path}`),
      };
    } finally {
      manager.stop();
    }
  }

  it('a definition behaves exactly as its name does in the root entry', async () => {
    const run = { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL };
    const byDefinition = await trace(
      (options) =>
        new core.RunManager({ run, session, sessionStore: core.createMemorySessionStore(), strategy: kit.reuseAcrossSessions, ...options }),
    );
    const byName = await trace(
      (options) =>
        new root.RunManager({ run, session, sessionStore: root.createMemorySessionStore(), strategy: 'reuse-across-sessions', ...options }),
    );
    expect(byDefinition).toEqual(byName);
    expect(byDefinition.fresh).toEqual([true, false, true]);
  });

  it('refuses a strategy name, a missing strategy and a { getRun, reset } object, saying where they work', () => {
    const run = { account: 'acme', project: 'sim', model: 'model.py' };
    for (const strategy of ['reuse-never', undefined, { getRun: () => null, reset: () => null }]) {
      expectThrow(
        () => new core.RunManager({ run, strategy } as never),
        'INVALID_OPTIONS',
        /^strategy must be a strategy definition .*names and \{ getRun, reset \} strategies need the root entry/,
      );
    }
  });

  it('takes a custom strategy made with toStrategyDefinition', async () => {
    const custom = kit.toStrategyDefinition('custom-never', kit.reuseNeverMachine);
    const rm = new core.RunManager({
      run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL },
      session,
      strategy: custom,
    });
    try {
      expect((await rm.getRun()).freshlyCreated).toBe(true);
      expect(rm.strategy.name).toBe('custom-never');
    } finally {
      rm.stop();
    }
  });

  it('speaks Epicenter v3 through a RunService from run-lifecycle/v3, and says so when given plain v3 run options', async () => {
    const run = { account: 'acme', project: 'sim', model: 'model.py', apiVersion: 3 as const, baseURL: emulator.v3BaseURL };
    expectThrow(() => new core.RunManager({ run, session, strategy: kit.reuseNever }), 'INVALID_OPTIONS', /run-lifecycle\/v3/);
    const v3Session = {
      userId: 'u1',
      groupName: 'g1',
      groupKey: 'key-g1',
      auth_token: createDevToken({ userId: 'u1', groupName: 'g1', groupKey: 'key-g1' }),
    };
    const rm = new core.RunManager({
      run: new v3.RunService(run),
      session: v3Session,
      sessionStore: core.createMemorySessionStore(),
      strategy: kit.reusePerSession,
    });
    try {
      const first = await rm.getRun();
      expect(first).toMatchObject({ id: first.runKey, freshlyCreated: true, scope: { scopeBoundary: 'GROUP', scopeKey: 'key-g1' } });
      expect((await rm.getRun()).id).toBe(first.id);
      expect(emulator.requests.map((entry) => `${entry.method} ${entry.path}`)).toEqual([
        'POST /api/v3/acme/sim/run',
        `GET /api/v3/acme/sim/run/${first.id}`,
      ]);
    } finally {
      rm.stop();
    }
  });
});
