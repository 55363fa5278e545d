/** `startEmulator`: builds the state, loads the data file, listens and returns the {@link Emulator} handle. */
import { setMaxListeners } from 'node:events';
import { createServer, type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Run, World } from '../types.js';
import { handleControlRoute } from './control-routes.js';
import { FaultRegistry } from './faults.js';
import { OperationRegistry } from './operations.js';
import { readDataFile, writeDataFile } from './persistence.js';
import { isRecord } from './record-paths.js';
import { RequestLog } from './request-log.js';
import { createRequestListener } from './server.js';
import { ADD_WORLD_NAMING, BATCH_NAMING, type SeedNaming } from './seed-data.js';
import { RunStore, type StoreSnapshot } from './store.js';
import type {
  DropFault,
  Emulator,
  EmulatorOptions,
  EmulatorSettings,
  EmulatorStats,
  FailFault,
  OperationHandler,
  RequestLogEntry,
  RunsFilter,
  SeedData,
  SlowFault,
  TruncateFault,
} from './types.js';
import type { V3State } from './v3-context.js';
import { SessionRegistry } from './v3-sessions.js';

const DEFAULT_LOG_LIMIT = 10_000;
const DEFAULT_LOG_BODY_LIMIT = 4 * 1024;
const DEFAULT_LOG_BYTE_LIMIT = 64 * 1024 * 1024;
// Enough to seed 10,000 runs over the control API; small enough that a few parallel uploads cannot exhaust the heap.
const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

function assertCount(value: unknown, name: string, min: number, infinite = false): void {
  if (infinite && value === Number.POSITIVE_INFINITY) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${name} must be an integer of at least ${min}${infinite ? ' (or Infinity)' : ''}`);
  }
}

function assertLatency(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TypeError('latency must be a non-negative number of ms');
  return ms;
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify({ status, message: `malformed request: ${error.code ?? error.message}` });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const SETTING_NAMES = ['allowWorldSelfAssign', 'invalidateTokensOnAssignment'] as const;

/** The settings with `changes` applied; throws TypeError naming a non-boolean or unknown setting before changing anything. */
function withSettings(current: EmulatorSettings, changes: unknown): EmulatorSettings {
  if (!isRecord(changes)) throw new TypeError('settings must be an object');
  const next = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    if (!(SETTING_NAMES as readonly string[]).includes(name))
      throw new TypeError(`unknown setting ${name} (known: ${SETTING_NAMES.join(', ')})`);
    if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
    next[name as keyof EmulatorSettings] = value;
  }
  return next;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

class LocalEmulator implements Emulator {
  private readonly server: Server;
  private readonly log: RequestLog;
  private readonly faults = new FaultRegistry();
  private readonly operations: OperationRegistry;
  private readonly shutdown = new AbortController();
  private readonly startedAt = Date.now();
  private latencyMs: number;
  private address = { port: 0, origin: '' };
  private closing: Promise<void> | undefined;
  /** What a failed write rolls the store back to. */
  private lastWritten: string | undefined;
  /** Shared with the pipeline: `configure` changes it in place. */
  private readonly v3: V3State;

  constructor(
    private readonly store: RunStore,
    private readonly options: EmulatorOptions,
  ) {
    if (options.dataFile) this.lastWritten = JSON.stringify(store.snapshot());
    // Every delayed request listens for shutdown; thousands may wait at once under latency.
    setMaxListeners(0, this.shutdown.signal);
    this.latencyMs = assertLatency(options.latency ?? 0);
    this.log = new RequestLog(options.logLimit ?? DEFAULT_LOG_LIMIT, options.logByteLimit ?? DEFAULT_LOG_BYTE_LIMIT);
    this.operations = new OperationRegistry(options.operations);
    const defaults: EmulatorSettings = { allowWorldSelfAssign: true, invalidateTokensOnAssignment: false };
    const chosen = {
      allowWorldSelfAssign: options.allowWorldSelfAssign,
      invalidateTokensOnAssignment: options.invalidateTokensOnAssignment,
    };
    this.v3 = { settings: withSettings(defaults, chosen), sessions: new SessionRegistry() };
    this.server = createServer(
      createRequestListener({
        store,
        log: this.log,
        faults: this.faults,
        operations: this.operations,
        tokens: { ...options.tokens },
        anonymous: options.anonymous === true,
        bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
        logBodyLimit: options.logBodyLimit ?? DEFAULT_LOG_BODY_LIMIT,
        latency: () => this.latencyMs,
        signal: this.shutdown.signal,
        persist: () => this.persist(),
        control: (request) => handleControlRoute(request, this),
        v3: this.v3,
      }),
    );
    this.server.on('clientError', answerClientError);
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        const actualPort = typeof address === 'object' && address ? address.port : port;
        this.address = { port: actualPort, origin: `http://${urlHost(host)}:${actualPort}` };
        resolve();
      });
    });
  }

  get port(): number {
    return this.address.port;
  }

  get origin(): string {
    return this.address.origin;
  }

  get baseURL(): string {
    return `${this.address.origin}/v2/`;
  }

  get v3BaseURL(): string {
    return `${this.address.origin}/api/v3/`;
  }

  get latency(): number {
    return this.latencyMs;
  }

  set latency(ms: number) {
    this.latencyMs = assertLatency(ms);
  }

  get requests(): readonly RequestLogEntry[] {
    return this.log.entries;
  }

  /**
   * Writes the data file if anything changed. On failure the store goes back to what the file holds:
   * a client told 500 must not find its change later, nor the next request fail on the same change.
   */
  persist(): void {
    if (!this.store.dirty) return;
    const file = this.options.dataFile;
    if (file && this.lastWritten !== undefined) {
      try {
        this.lastWritten = writeDataFile(file, this.store.snapshot());
      } catch (error) {
        this.store.restore(JSON.parse(this.lastWritten) as StoreSnapshot);
        throw error;
      }
    }
    this.store.dirty = false;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.shutdown.abort();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    }).then(() => this.persist());
    return this.closing;
  }

  clearLog(): void {
    this.log.clear();
  }

  waitForRequests(count: number, timeoutMs?: number): Promise<RequestLogEntry[]> {
    return this.log.waitFor(count, timeoutMs);
  }

  runs(filter?: RunsFilter): Run[] {
    return structuredClone(this.store.list(filter));
  }

  getRun(id: string): Run | undefined {
    const run = this.store.get(id);
    return run ? structuredClone(run) : undefined;
  }

  worlds(): World[] {
    return structuredClone(this.store.listWorlds());
  }

  addWorld(world: World): World {
    // Problems name the fields of the world passed (`addWorld: users[1].userId …`), not a batch it is not in.
    return this.seedWith([], [world], ADD_WORLD_NAMING).worlds[0] as World;
  }

  seed(data: SeedData): { runs: Run[]; worlds: World[] } {
    const { runs = [], worlds = [] } = data ?? {};
    if (!Array.isArray(runs) || !Array.isArray(worlds)) throw new TypeError('seed runs and worlds must be arrays');
    return this.seedWith(runs, worlds, BATCH_NAMING);
  }

  private seedWith(runs: ReadonlyArray<Partial<Run>>, worlds: readonly World[], naming: SeedNaming): { runs: Run[]; worlds: World[] } {
    const seeded = this.store.seed(runs, worlds, naming);
    this.persist();
    return structuredClone(seeded);
  }

  reset(): void {
    this.store.clear();
    this.log.clear();
    this.faults.clear();
    this.v3.sessions.clear();
    this.persist();
  }

  registerOperation(name: string, handler: OperationHandler): void {
    this.operations.register(name, handler);
  }

  fail(fault: FailFault): void {
    this.faults.add({ ...fault, kind: 'fail' });
  }

  drop(fault: DropFault): void {
    this.faults.add({ ...fault, kind: 'drop' });
  }

  slow(fault: SlowFault): void {
    this.faults.add({ ...fault, kind: 'slow' });
  }

  truncate(fault: TruncateFault = {}): void {
    this.faults.add({ ...fault, kind: 'truncate' });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  settings(): EmulatorSettings {
    return { ...this.v3.settings };
  }

  configure(changes: Partial<EmulatorSettings>): EmulatorSettings {
    this.v3.settings = withSettings(this.v3.settings, changes);
    return this.settings();
  }

  invalidateTokens(userId: string): number {
    if (typeof userId !== 'string' || userId === '') throw new TypeError('userId must be a non-empty string');
    return this.v3.sessions.invalidateUser(userId);
  }

  stats(): EmulatorStats {
    return {
      requests: this.log.total,
      logged: this.log.entries.length,
      loggedBytes: this.log.bytes,
      runs: this.store.size,
      worlds: this.store.listWorlds().length,
      latencyMs: this.latencyMs,
      uptimeMs: Date.now() - this.startedAt,
      cpu: process.cpuUsage(),
      memory: process.memoryUsage(),
    };
  }
}

function assertPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError('port must be an integer from 0 to 65535');
  return port;
}

/**
 * Starts a local Epicenter Run API emulator and resolves once it listens. It serves v2 under `/v2/`
 * and v3 under `/api/v3/{account}/{project}/` over one store, so a run created by either is seen by
 * both. Loads `dataFile` when it exists (a corrupt file rejects and is never overwritten), else seeds
 * `runs` and `worlds`. A request that would nest a record deeper than 32 levels or add more than
 * 100,000 keys is 400.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ variables: { price: 10 } });
 * const session = { userId: 'u1', auth_token: createDevToken({ userId: 'u1' }) };
 * const rm = new RunManager({ run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL }, session });
 * await emulator.close();
 * ```
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = assertPort(options.port ?? 0);
  assertCount(options.logLimit ?? DEFAULT_LOG_LIMIT, 'logLimit', 1);
  assertCount(options.logBodyLimit ?? DEFAULT_LOG_BODY_LIMIT, 'logBodyLimit', 0);
  assertCount(options.logByteLimit ?? DEFAULT_LOG_BYTE_LIMIT, 'logByteLimit', 1, true);
  assertCount(options.bodyLimit ?? DEFAULT_BODY_LIMIT, 'bodyLimit', 1);
  for (const [token, user] of Object.entries(options.tokens ?? {})) {
    if (!isRecord(user) || typeof user.id !== 'string' || user.id === '')
      throw new TypeError(`tokens["${token}"] must be a user with a non-empty string id`);
  }
  if (options.variables !== undefined && !isRecord(options.variables)) throw new TypeError('variables must be an object');
  const store = new RunStore(options.variables);
  const snapshot = options.dataFile ? readDataFile(options.dataFile) : null;
  if (snapshot) store.restore(snapshot);
  const emulator = new LocalEmulator(store, options);
  if (!snapshot) emulator.seed({ runs: options.runs, worlds: options.worlds });
  await emulator.listen(port, options.host ?? '127.0.0.1');
  return emulator;
}
