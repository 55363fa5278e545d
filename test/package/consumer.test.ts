/**
 * The package as a consumer gets it: `npm pack`, a fresh project that installs the tarball and the
 * lowest supported xstate, then every entry imported from ESM and required from CommonJS (with one
 * real `getRun` against the emulator from each), every entry type-checked strictly under node16,
 * nodenext and bundler resolution, a browser bundle of `RunManager`, publint and
 * are-the-types-wrong on the tarball.
 *
 * `CONSUMER_XSTATE=5.x.y npx vitest run test/package` tries another xstate (how the peer range's
 * floor was found).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/built-package.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The floor of the xstate peer range (package.json `peerDependencies`). */
const LOWEST_XSTATE = '5.33.0';
const XSTATE = process.env.CONSUMER_XSTATE ?? LOWEST_XSTATE;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const ATTW = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
const TYPES_NODE = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string })
  .version;

/** Public entries: subpath → built file stem under dist/. */
const ENTRIES = {
  'run-lifecycle': 'index',
  'run-lifecycle/core': 'core',
  'run-lifecycle/strategies': 'strategies',
  'run-lifecycle/v3': 'v3',
  'run-lifecycle/emulator': 'emulator/index',
  'run-lifecycle/testing': 'testing/index',
} as const;
const SPECIFIERS = Object.keys(ENTRIES);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeout = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function runOk(command: string, args: readonly string[], cwd: string, timeout?: number): Promise<string> {
  const ran = await run(command, args, cwd, timeout);
  if (ran.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
  return ran.stdout;
}

let work: string;
let consumer: string;
let tarball: string;

beforeAll(async () => {
  await ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'run-lifecycle-package-'));
  // The build just ran (or dist/ is fresh): no `prepare` again while packing.
  const packed = JSON.parse(await runOk('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as Array<{
    filename: string;
  }>;
  tarball = join(work, packed[0]!.filename);
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
  await runOk(
    'npm',
    ['install', tarball, `xstate@${XSTATE}`, `@types/node@${TYPES_NODE}`, '--prefer-offline', '--no-audit', '--no-fund'],
    consumer,
    150_000,
  );
  writeFixtures(consumer);
}, 300_000);

afterAll(() => {
  if (work && !process.env.KEEP_CONSUMER) rmSync(work, { recursive: true, force: true });
});

/** What every smoke script does once it has the entries: one getRun on the emulator. */
const SMOKE_BODY = `
const loaded = {};
for (const [name, mod] of Object.entries(entries)) loaded[name] = Object.keys(mod).sort();
const { startEmulator, createDevToken } = entries['run-lifecycle/emulator'];
const { RunManager } = entries['run-lifecycle'];
const emulator = await startEmulator({ port: 0, latency: 0 });
let run;
try {
  const rm = new RunManager({
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL, token: createDevToken({ userId: 'u1' }) },
    strategy: 'reuse-never',
    sessionKey: false,
  });
  run = await rm.getRun();
  rm.stop();
} finally {
  await emulator.close();
}
console.log(JSON.stringify({ loaded, runManager: typeof RunManager, runId: run.id, creates: emulator.requests.filter((r) => r.method === 'POST').length }));
`;

const ESM_SMOKE = `${SPECIFIERS.map((specifier, index) => `import * as entry${index} from '${specifier}';`).join('\n')}
const entries = { ${SPECIFIERS.map((specifier, index) => `'${specifier}': entry${index}`).join(', ')} };
${SMOKE_BODY}`;

const CJS_SMOKE = `'use strict';
const entries = { ${SPECIFIERS.map((specifier) => `'${specifier}': require('${specifier}')`).join(', ')} };
if (typeof require('run-lifecycle').RunManager !== 'function') throw new Error('require("run-lifecycle").RunManager is not a function');
(async () => {
${SMOKE_BODY}
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});`;

/** The browser-side entries' main names, used so that their types are checked. */
const BROWSER_TS = `import {
  RunManager,
  createRunManager,
  RunManagerError,
  isRunManagerError,
  ERROR_TYPES,
  strategies,
  STRATEGY,
  RunService,
  createDefaultSessionStore,
  createMemorySessionStore,
  createSanitizedInspector,
  createTraceRecorder,
  type RunManagerOptions,
  type RunManagerErrorType,
  type Run,
  type StrategyName,
  type SessionStore,
  type Coordinator,
} from 'run-lifecycle';
import {
  RunManager as CoreRunManager,
  RunService as V2RunService,
  createProcessCoordinator,
  createWebLocksCoordinator,
  type RunManagerOptions as CoreRunManagerOptions,
} from 'run-lifecycle/core';
import {
  reuseNever,
  reusePerSession,
  reuseAcrossSessions,
  reuseByTrackingKey,
  multiplayer,
  reuseNeverMachine,
  findCreatedRunMachine,
  holdLock,
  toStrategyDefinition,
  runManagerMachine,
  strategyActors,
  type StrategyDefinition,
} from 'run-lifecycle/strategies';
import { RunService as V3RunService, readSessionCookie, V3_SESSION_COOKIE, type V3Session } from 'run-lifecycle/v3';
import {
  createPathModel,
  createStrategyModel,
  createCoverageTracker,
  formatCoverage,
  replayPath,
  withFakeActors,
  comparable,
  type PathModel,
  type CoverageReport,
} from 'run-lifecycle/testing';

const options: RunManagerOptions = {
  run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: 'http://127.0.0.1:1/v2/', token: 't' },
  strategy: 'reuse-never',
  sessionKey: false,
};
const rm = new RunManager(options);
const pending: Promise<Run> = rm.getRun(['price']);
const name: StrategyName = 'reuse-per-session';
const coreOptions: CoreRunManagerOptions = { run: { account: 'acme', project: 'sim', model: 'model.py' }, strategy: reusePerSession };
const core = new CoreRunManager(coreOptions);
const definitions: StrategyDefinition[] = [reuseNever, reusePerSession, reuseAcrossSessions, reuseByTrackingKey, multiplayer];
const store: SessionStore = createMemorySessionStore();
const coordinator: Coordinator = createProcessCoordinator();
const model: PathModel = createStrategyModel(reuseNeverMachine);
const report: CoverageReport = model.coverage;
const session: V3Session | undefined = undefined;
const cookie: string = V3_SESSION_COOKIE;
function typeOf(error: unknown): RunManagerErrorType | undefined {
  return isRunManagerError(error) ? error.type : error instanceof RunManagerError ? error.type : undefined;
}

export const used = [
  pending, name, core, definitions, store, coordinator, report, session, cookie, typeOf,
  createRunManager, ERROR_TYPES, strategies, STRATEGY, RunService, createDefaultSessionStore, createWebLocksCoordinator,
  createSanitizedInspector, createTraceRecorder, V2RunService, findCreatedRunMachine, holdLock,
  toStrategyDefinition, runManagerMachine, strategyActors, V3RunService, readSessionCookie, createPathModel,
  createCoverageTracker, formatCoverage, replayPath, withFakeActors, comparable,
];
`;

const NODE_TS = `${BROWSER_TS}
import { startEmulator, createDevToken, decodeJwtUser, builtinOperations, type Emulator, type EmulatorOptions } from 'run-lifecycle/emulator';

const emulatorOptions: EmulatorOptions = { port: 0, latency: 0 };
const started: Promise<Emulator> = startEmulator(emulatorOptions);
const token: string = createDevToken({ userId: 'u1' });
export const nodeUsed = [started, token, decodeJwtUser, builtinOperations];
`;

const BROWSER_ENTRY = `import { RunManager } from 'run-lifecycle';
export const rm = new RunManager({ run: { account: 'acme', project: 'sim', model: 'model.py' }, strategy: 'reuse-per-session' });
`;

const RESOLUTIONS = [
  { moduleResolution: 'node16', module: 'node16', extensions: ['mts', 'cts'] },
  { moduleResolution: 'nodenext', module: 'nodenext', extensions: ['mts', 'cts'] },
  { moduleResolution: 'bundler', module: 'esnext', extensions: ['ts'] },
] as const;
const FLAVOURS = [
  { name: 'browser', source: BROWSER_TS, compilerOptions: { lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] } },
  { name: 'node', source: NODE_TS, compilerOptions: { lib: ['ES2022'], types: ['node'] } },
] as const;

function writeFixtures(dir: string): void {
  writeFileSync(join(dir, 'smoke.mjs'), ESM_SMOKE);
  writeFileSync(join(dir, 'smoke.cjs'), CJS_SMOKE);
  writeFileSync(join(dir, 'browser-entry.mjs'), BROWSER_ENTRY);
  for (const flavour of FLAVOURS) {
    for (const extension of ['ts', 'mts', 'cts']) writeFileSync(join(dir, `${flavour.name}.${extension}`), flavour.source);
    for (const resolution of RESOLUTIONS) {
      const tsconfig = {
        compilerOptions: {
          strict: true,
          // Every declaration file is checked (the package's own and its dependencies'), except
          // TypeScript's lib.*.d.ts, which are not what is tested here.
          skipLibCheck: false,
          skipDefaultLibCheck: true,
          noEmit: true,
          target: 'ES2022',
          module: resolution.module,
          moduleResolution: resolution.moduleResolution,
          ...flavour.compilerOptions,
        },
        files: resolution.extensions.map((extension) => `${flavour.name}.${extension}`),
      };
      writeFileSync(join(dir, `tsconfig.${flavour.name}.${resolution.moduleResolution}.json`), JSON.stringify(tsconfig, null, 2));
    }
  }
}

interface Smoke {
  loaded: Record<string, string[]>;
  runManager: string;
  runId: string;
  creates: number;
}

function expectSmoke(stdout: string): void {
  const smoke = JSON.parse(stdout.trim().split('\n').at(-1)!) as Smoke;
  expect(Object.keys(smoke.loaded).sort()).toEqual([...SPECIFIERS].sort());
  for (const [specifier, names] of Object.entries(smoke.loaded)) expect(names.length, specifier).toBeGreaterThan(0);
  expect(smoke.loaded['run-lifecycle']).toContain('RunManager');
  expect(smoke.loaded['run-lifecycle/testing']).toContain('createPathModel');
  expect(smoke.runManager).toBe('function');
  expect(smoke.runId).toMatch(/\S/);
  expect(smoke.creates).toBe(1);
}

describe(`the packed package in a fresh project (xstate ${XSTATE})`, () => {
  it('imports every entry from ESM and gets a run from the emulator', async () => {
    expectSmoke(await runOk(process.execPath, ['smoke.mjs'], consumer, 60_000));
  }, 90_000);

  it('requires every entry from CommonJS and gets a run from the emulator', async () => {
    expectSmoke(await runOk(process.execPath, ['smoke.cjs'], consumer, 60_000));
  }, 90_000);

  it('installs the run-lifecycle-emulator bin', async () => {
    const installed = JSON.parse(readFileSync(join(consumer, 'node_modules', 'run-lifecycle', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const cli = join(consumer, 'node_modules', 'run-lifecycle', installed.bin['run-lifecycle-emulator']!);
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(cli).mode & 0o111).not.toBe(0);
    const help = await runOk(join(consumer, 'node_modules', '.bin', 'run-lifecycle-emulator'), ['--help'], consumer, 30_000);
    expect(help).toMatch(/--port/);
  }, 60_000);

  it('type-checks every entry strictly (skipLibCheck off) under node16, nodenext and bundler, for the browser and for Node', async () => {
    const projects = FLAVOURS.flatMap((flavour) =>
      RESOLUTIONS.map((resolution) => `tsconfig.${flavour.name}.${resolution.moduleResolution}.json`),
    );
    const failures: string[] = [];
    // Two at a time: tsc is single-threaded.
    for (let index = 0; index < projects.length; index += 2) {
      const ranBatch = await Promise.all(
        projects.slice(index, index + 2).map(async (project) => ({
          project,
          ran: await run(process.execPath, [TSC, '-p', project, '--listFiles'], consumer, 120_000),
        })),
      );
      for (const { project, ran } of ranBatch) {
        const errors = ran.stdout
          .split('\n')
          .filter((line) => /error TS\d+/.test(line))
          .join('\n');
        if (ran.code !== 0) failures.push(`${project}:\n${errors || ran.stdout + ran.stderr}`);
        // The browser flavour must type-check without Node's types coming along.
        if (project.startsWith('tsconfig.browser.') && ran.stdout.includes('/node_modules/@types/node/')) {
          failures.push(`${project}: pulls in @types/node`);
        }
      }
    }
    expect(failures.join('\n\n')).toBe('');
  }, 180_000);

  it('bundles RunManager for the browser with one xstate, no Node built-in and no emulator code', async () => {
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const result = await build({
      absWorkingDir: consumer,
      entryPoints: ['browser-entry.mjs'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const xstateRoots = new Set(inputs.flatMap((input) => /^(.*node_modules\/xstate)\//.exec(input)?.[1] ?? []));
    expect([...xstateRoots]).toEqual(['node_modules/xstate']);
    expect(inputs.filter((input) => input.includes('node_modules/run-lifecycle/node_modules/'))).toEqual([]);
    expect(inputs.filter((input) => /run-lifecycle\/dist\/(emulator|testing)/.test(input))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
    expect(imports.filter((path) => builtins.has(path) || path.startsWith('node:'))).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/(?:from|import|require)\s*\(?\s*["']node:/);
    expect(code).not.toContain('_emulator');
  }, 60_000);

  it('passes publint --strict on the tarball', async () => {
    const bytes = readFileSync(tarball);
    const packed = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball: packed }, strict: true });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`)).toEqual([]);
  }, 60_000);

  it('passes are-the-types-wrong on the tarball for node16 (ESM and CJS) and bundler resolution', async () => {
    // `--profile node16` leaves out only node10 resolution, which ignores `exports` and so cannot see
    // the subpath entries; `main`/`types` still serve the root entry there.
    const ran = await run(
      process.execPath,
      [ATTW, tarball, '--profile', 'node16', '--no-definitely-typed', '--format', 'ascii', '--no-color'],
      ROOT,
    );
    expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);
  }, 90_000);
});
