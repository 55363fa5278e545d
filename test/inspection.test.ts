/**
 * Inspection without secrets: the sanitizer's rules, a direct `inspect` callback over a full run,
 * and the Stately WebSocket inspector (`@statelyai/inspect`) over a real socket — what it sends on
 * the wire must hold neither the session's token nor `run.token`, while the live actor keeps its
 * real services.
 */
import type { AddressInfo } from 'node:net';
import { createInspector, createWebSocketInspector } from '@statelyai/inspect';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createActor, createMachine, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import { createDevToken, startEmulator, type Emulator } from '../src/emulator/index.js';
import {
  createMemorySessionStore,
  createSanitizedInspector,
  RunManager,
  RunManagerError,
  RunService,
  type RunManagerOptions,
  type UserSession,
} from '../src/index.js';
import { REDACTED, sanitizeInspectionEvent, sanitizeValue } from '../src/inspection.js';

const SESSION_TOKEN = createDevToken({ userId: 'u1', userName: 'alice', purpose: 'inspection-session-token' });
const RUN_TOKEN = createDevToken({ userId: 'u1', userName: 'alice', purpose: 'inspection-run-token' });
const REFRESH = 'refresh-7f3a9c1e5b';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, variables: { price: 42 } });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

/** JSON of anything: cycles, functions, class instances and bigints never throw. */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'function') return `[function ${item.name}]`;
    if (typeof item === 'bigint') return String(item);
    if (item && typeof item === 'object') {
      if (seen.has(item)) return '[seen]';
      seen.add(item);
    }
    return item;
  });
}

/** Asserts a text holds no secret: neither token, the user's refresh token, nor an unredacted `auth_token`. */
function expectNoSecret(text: string): void {
  expect(text).not.toContain(SESSION_TOKEN);
  expect(text).not.toContain(RUN_TOKEN);
  expect(text).not.toContain(REFRESH);
  expect(text).not.toMatch(/"auth_token":"(?!\[redacted\])/i);
}

/** The two places a token comes from; the session also carries user fields that hold secrets. */
const SOURCES = [
  {
    name: 'session.auth_token',
    token: SESSION_TOKEN,
    run: {},
    session: { userId: 'u1', auth_token: SESSION_TOKEN, refresh_token: REFRESH, debugHeader: `Bearer ${SESSION_TOKEN}` },
  },
  {
    name: 'a session function',
    token: SESSION_TOKEN,
    run: {},
    session: () => ({
      userId: 'u1',
      auth_token: SESSION_TOKEN,
      sessionCookie: `epicenterjs.session=${SESSION_TOKEN}`,
      debug: `token ${SESSION_TOKEN}`,
    }),
  },
  {
    name: 'run.token',
    token: RUN_TOKEN,
    run: { token: RUN_TOKEN },
    session: { userId: 'u1', note: `signed in with ${RUN_TOKEN}`, Password: 'hunter2' },
  },
] satisfies Array<{ name: string; token: string; run: { token?: string }; session: UserSession | (() => UserSession) }>;

const sessionOf = (source: (typeof SOURCES)[number]): UserSession =>
  typeof source.session === 'function' ? source.session() : { ...source.session };

function managerOptions(source: (typeof SOURCES)[number], inspect: RunManagerOptions['inspect']): RunManagerOptions {
  return {
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL, ...source.run },
    session: typeof source.session === 'function' ? source.session : sessionOf(source),
    sessionStore: createMemorySessionStore(),
    retry: { retries: 0 },
    inspect,
  };
}

async function fullRun(rm: RunManager): Promise<void> {
  const first = await rm.getRun(['price']);
  expect(first.variables).toEqual({ price: 42 });
  const fresh = await rm.reset();
  expect(fresh.id).not.toBe(first.id);
  expect((await rm.getRun()).id).toBe(fresh.id);
}

/** Resolves once `count()` has not changed for `quietMs` (and is above zero). */
async function settled(count: () => number, quietMs = 80, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const now = count();
    if (now !== last) [last, since] = [now, Date.now()];
    else if (now > 0 && Date.now() - since >= quietMs) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`still changing after ${timeoutMs} ms`);
}

describe('sanitizeValue', () => {
  it('replaces services, functions, class instances and credential keys; keeps plain data, dates and RunManagerErrors', () => {
    class Client {}
    const when = new Date('2024-01-02T03:04:05Z');
    const input = {
      services: { runService: new RunService({ account: 'a', project: 'p', model: 'm' }) },
      run: { id: 'r1', scope: { group: 'g1' }, created: when, tags: ['a', 1, true, null] },
      onCreate: function onCreate() {},
      anonymous: [() => 1][0],
      client: new Client(),
      map: new Map([[1, 2]]),
      Authorization: `Bearer ${SESSION_TOKEN}`,
      headers: { 'Set-Cookie': 'epicenterjs.session=x', accessToken: 'abc', apiKey: 'k' },
      session: { userId: 'u1', PASSWORD: 'p', client_secret: 's', auth_token: null },
      error: new RunManagerError('UNAUTHORIZED', `denied for ${SESSION_TOKEN}`, { status: 401, cause: new TypeError('boom') }),
      big: 10n,
    };
    const clean = sanitizeValue(input, { secrets: () => [SESSION_TOKEN] }) as Record<string, any>;
    expect(clean.services).toBe('[services]');
    expect(clean.run).toEqual({ id: 'r1', scope: { group: 'g1' }, created: when, tags: ['a', 1, true, null] });
    expect(clean.run.created).not.toBe(when);
    expect(clean.onCreate).toBe('[function onCreate]');
    expect(clean.anonymous).toBe('[function anonymous]');
    expect(clean.client).toBe('[Client]');
    expect(clean.map).toBe('[Map]');
    expect(clean.Authorization).toBe(REDACTED);
    expect(clean.headers).toEqual({ 'Set-Cookie': REDACTED, accessToken: REDACTED, apiKey: REDACTED });
    expect(clean.session).toEqual({ userId: 'u1', PASSWORD: REDACTED, client_secret: REDACTED, auth_token: null });
    expect(clean.error).toEqual({
      name: 'RunManagerError',
      type: 'UNAUTHORIZED',
      message: `denied for ${REDACTED}`,
      status: 401,
      cause: '[TypeError]',
    });
    expect(clean.big).toBe('10n');
    expect(input.services.runService).toBeInstanceOf(RunService); // the input is untouched
  });

  it('redacts every occurrence of a secret in any string, keys included', () => {
    const clean = sanitizeValue(
      { text: `a ${SESSION_TOKEN} b ${SESSION_TOKEN}`, [SESSION_TOKEN]: 1, list: [`x${RUN_TOKEN}`] },
      {
        secrets: () => [SESSION_TOKEN, RUN_TOKEN, '', undefined],
      },
    );
    expect(clean).toEqual({ text: `a ${REDACTED} b ${REDACTED}`, [REDACTED]: 1, list: [`x${REDACTED}`] });
  });

  it('marks cycles, keeps shared (acyclic) references, and bounds depth', () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic.self = cyclic;
    expect(sanitizeValue(cyclic)).toEqual({ shared: { n: 1 }, again: { n: 1 }, self: '[circular]' });
    const deep = { a: { b: { c: { d: { e: 1 } } } } };
    expect(sanitizeValue(deep, { maxDepth: 2 })).toEqual({ a: { b: { c: '[depth limit]' } } });
  });

  it('survives getters that throw', () => {
    const tricky = Object.defineProperty({ ok: 1 }, 'bad', {
      enumerable: true,
      get: () => {
        throw new Error('no');
      },
    });
    expect(sanitizeValue(tricky)).toEqual({ ok: 1, bad: '[unreadable]' });
  });
});

describe('sanitizeInspectionEvent', () => {
  it('builds new plain events and actor views; the live actor is untouched', () => {
    const machine = setup({
      types: {},
    }).createMachine({
      id: 'm',
      context: ({ input }) => ({ ...input, count: 0 }),
      initial: 'a',
      states: { a: { on: { GO: 'b' } }, b: {} },
    });
    const events: InspectionEvent[] = [];
    const services = { client: new RunService({ account: 'a', project: 'p', model: 'm' }) };
    const actor = createActor(machine, {
      input: { services, token: 'tok-123456' },
      inspect: createSanitizedInspector((e) => events.push(e)),
    });
    actor.start();
    actor.send({ type: 'GO', password: 'pw' });

    const live = actor.getSnapshot();
    expect(live.context.services).toBe(services);
    expect(live.context.token).toBe('tok-123456');
    expect(live.hasTag).toBeTypeOf('function');

    const snapshots = events.filter((e) => e.type === '@xstate.snapshot');
    const last = snapshots.at(-1) as InspectionEvent & { snapshot: Record<string, any>; event: Record<string, unknown> };
    expect(last.snapshot).not.toBe(live);
    expect(last.snapshot).toMatchObject({
      status: 'active',
      value: 'b',
      context: { services: '[services]', token: REDACTED, count: 0 },
      tags: [],
    });
    expect(last.snapshot.hasTag).toBeUndefined();
    expect(last.event).toEqual({ type: 'GO', password: REDACTED });
    // Sanitizing is idempotent: a sanitized event passes through a second sanitizer unchanged.
    for (const event of events) {
      const again = sanitizeInspectionEvent(event) as unknown as Record<string, unknown>;
      const { actorRef: _a, sourceRef: _s, ...rest } = event as unknown as Record<string, unknown>;
      expect(again).toMatchObject(rest);
    }

    // Actor views: stable per actor, with what inspectors read, and a sanitized getSnapshot().
    const views = new Set(events.map((e) => e.actorRef));
    expect(views.size).toBe(1);
    const view = events[0]!.actorRef as AnyActorRef;
    expect(view).not.toBe(actor);
    expect(view.id).toBe(actor.id);
    expect(view.sessionId).toBe(actor.sessionId);
    expect((view as unknown as { logic: { config: { id: string } } }).logic.config.id).toBe('m');
    expect((view.getSnapshot() as { context: unknown }).context).toEqual({ services: '[services]', token: REDACTED, count: 0 });
    expect(JSON.stringify(view)).toBe(JSON.stringify(actor)); // {"xstate$$type":1,"id":…}

    // Microsteps keep the state nodes' id, key and path (as plain data) for path tracking.
    const microstep = events.find((e) => e.type === '@xstate.microstep') as unknown as { _transitions: unknown[] };
    expect(microstep._transitions).toEqual([
      { eventType: 'GO', source: { id: 'm.a', key: 'a', path: ['a'] }, target: [{ id: 'm.b', key: 'b', path: ['b'] }], reenter: false },
    ]);
    actor.stop();
  });

  it('sanitizes what @statelyai/inspect serializes, including the snapshot it reads from actorRef.getSnapshot()', async () => {
    const sent: string[] = [];
    const inspector = createInspector({ send: (event) => void sent.push(JSON.stringify(event)) }, { autoStart: false });
    const machine = createMachine({
      id: 'm',
      context: { services: { secret: 'S3cr3t-value' }, note: 'Bearer tok-abcdef' },
      initial: 'a',
      states: { a: {} },
    });
    const actor = createActor(machine, { inspect: createSanitizedInspector(inspector.inspect, { secrets: () => ['tok-abcdef'] }) });
    actor.start();
    await settled(() => sent.length, 30);
    const actorEvent = JSON.parse(sent.find((line) => line.includes('"@xstate.actor"'))!) as {
      snapshot: { context: unknown };
      definition: string;
    };
    expect(actorEvent.snapshot.context).toEqual({ services: '[services]', note: `Bearer ${REDACTED}` });
    expect(JSON.parse(actorEvent.definition)).toMatchObject({ id: 'm', initial: 'a', context: { services: '[services]' } });
    for (const line of sent) expect(line).not.toMatch(/S3cr3t-value|tok-abcdef/);

    // Control: an @xstate.actor event carries no snapshot, yet the inspector ships the live one it
    // reads from the real actorRef — which is why actorRef is replaced by a view.
    sent.length = 0;
    inspector.inspect.next?.({ type: '@xstate.actor', actorRef: actor, rootId: actor.sessionId });
    await settled(() => sent.length, 30);
    expect(sent.join('\n')).toContain('S3cr3t-value');
    sent.length = 0;
    inspector.inspect.next?.(
      sanitizeInspectionEvent({ type: '@xstate.actor', actorRef: actor, rootId: actor.sessionId }, { secrets: () => ['tok-abcdef'] }),
    );
    await settled(() => sent.length, 30);
    expect(sent.join('\n')).not.toMatch(/S3cr3t-value|tok-abcdef/);
    actor.stop();
  });
});

describe('RunManager inspect', () => {
  it.each(SOURCES)('a direct inspect callback sees only sanitized events over a full run ($name)', async (source) => {
    const events: InspectionEvent[] = [];
    const rm = new RunManager(managerOptions(source, (event) => events.push(event)));
    // Control: a raw observer on the same system sees the secrets, so the sanitizer has work to do.
    const raw: string[] = [];
    rm.actor.system.inspect((event) => raw.push(safeStringify({ ...event, actorRef: undefined, sourceRef: undefined })));
    try {
      await fullRun(rm);
    } finally {
      rm.stop();
    }
    expect(raw.some((text) => text.includes(source.token))).toBe(true);

    expect(events.length).toBeGreaterThan(100);
    for (const event of events) {
      expectNoSecret(safeStringify(event));
      expectNoSecret(safeStringify((event.actorRef as AnyActorRef).getSnapshot()));
    }
    const names = new Set(events.map((e) => (e.actorRef as AnyActorRef).id));
    expect(names).toContain('strategy');
    expect(names).toContain(rm.actor.id);

    const rootSnapshots = events.filter((e) => e.type === '@xstate.snapshot' && e.actorRef.sessionId === rm.actor.sessionId);
    const last = rootSnapshots.at(-1) as unknown as { snapshot: { value: unknown; context: Record<string, any> } };
    expect(last.snapshot.value).toBe('ready');
    expect(last.snapshot.context.services).toBe('[services]');
    expect(Object.values(last.snapshot.context.session)).toContain(REDACTED);
    expect(last.snapshot.context.run.id).toBe(rm.run.id);

    // The live actor still holds the real services and session: nothing was mutated.
    const live = rm.actor.getSnapshot().context;
    expect(live.services.runService).toBe(rm.run);
    expect(live.services.loadSession).toBeTypeOf('function');
    expect(live.session).toMatchObject(Object.fromEntries(Object.entries(sessionOf(source)).filter(([key]) => key !== 'auth_token')));
    expect(rm.actor.getSnapshot().hasTag('ready')).toBe(true);
  });

  it.each(SOURCES)('the Stately WebSocket inspector sends no secret over the wire ($name)', async (source) => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const messages: string[] = [];
    const connected = new Promise<WebSocket>((resolve) =>
      server.once('connection', (socket) => {
        socket.on('message', (data) => messages.push(data.toString()));
        resolve(socket);
      }),
    );
    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` });
    let rm: RunManager | undefined;
    try {
      await connected;
      rm = new RunManager(managerOptions(source, inspector.inspect));
      await fullRun(rm);
      await settled(() => messages.length);
    } finally {
      rm?.stop();
      inspector.stop();
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    }

    for (const message of messages) expectNoSecret(message);
    const parsed = messages.map(
      (message) => JSON.parse(message) as { type: string; name?: string; sessionId: string; snapshot?: any; event?: any },
    );
    expect(new Set(parsed.map((m) => m.type))).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));

    const actors = parsed.filter((m) => m.type === '@xstate.actor');
    const root = actors.find((m) => m.name === 'run-manager');
    const strategies = actors.filter((m) => m.name === 'strategy');
    expect(root).toBeDefined();
    expect(strategies).toHaveLength(3); // getRun, reset, getRun
    expect(root!.snapshot.context.services).toBe('[services]');

    const strategyIds = new Set(strategies.map((m) => m.sessionId));
    const strategyStates = parsed.filter((m) => m.type === '@xstate.snapshot' && strategyIds.has(m.sessionId)).map((m) => m.snapshot.value);
    expect(strategyStates).toContain('creating');
    expect(strategyStates).toContain('ready');
    const strategyInit = parsed.find((m) => m.type === '@xstate.event' && strategyIds.has(m.sessionId) && m.event.type === 'xstate.init');
    expect(strategyInit!.event.input.services).toBe('[services]');
    const rootStates = parsed.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === root!.sessionId).map((m) => m.snapshot.value);
    expect(rootStates.at(-1)).toBe('ready');
  });
});
