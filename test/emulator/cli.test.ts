import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/emulator/cli-args.js';

const CLI = fileURLToPath(new URL('../../src/emulator/cli.ts', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

function startCli(args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: 'pipe' });
  children.push(child);
  return child;
}

function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function printedBaseURL(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+\/v2\/)/.exec(output);
      if (match) resolve(match[1] as string);
    });
    child.on('close', (code) => reject(new Error(`CLI exited with ${code} before printing its URL: ${output}`)));
  });
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('parseCliArgs', () => {
  it('reads every flag', () => {
    expect(
      parseCliArgs([
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data',
        'x.json',
        '--latency',
        '25',
        '--anonymous',
        '--token',
        'a=u1',
        '--token',
        'b=u2',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        port: 0,
        host: '127.0.0.1',
        dataFile: 'x.json',
        latency: 25,
        anonymous: true,
        tokens: { a: { id: 'u1', userName: 'u1' }, b: { id: 'u2', userName: 'u2' } },
      },
    });
    expect(parseCliArgs([])).toMatchObject({ kind: 'run', options: { port: 8080, latency: 0, anonymous: false, tokens: {} } });
    expect(parseCliArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it('refuses bad flags and values', () => {
    for (const args of [
      ['--nope'],
      ['--port', 'x'],
      ['--port', '70000'],
      ['--latency', '-1'],
      ['--token', 'novalue'],
      ['--token', '=u1'],
      ['stray'],
      ['--port'],
    ]) {
      expect(parseCliArgs(args), args.join(' ')).toMatchObject({ kind: 'error', message: expect.any(String) });
    }
  });

  it('words every usage error itself, on one line, naming what was wrong', () => {
    const cases: Array<[string[], string]> = [
      [['--bogus'], 'unknown option --bogus'],
      [['--prot', '80'], 'unknown option --prot (did you mean --port?)'],
      [['-x'], 'unknown option -x'],
      [['--port'], '--port needs a value'],
      [['--port='], '--port needs a value'],
      [['--port', '--anonymous'], '--port needs a value, got the option --anonymous'],
      [['--anonymous=yes'], '--anonymous takes no value, got "yes"'],
      [['--port', '1', '--port', '2'], '--port is given more than once'],
      [['--port', 'x'], '--port must be an integer from 0 to 65535, not "x"'],
      [['stray'], 'unexpected argument "stray"'],
      [['--', '--port'], 'unexpected argument "--port"'],
    ];
    for (const [args, message] of cases) expect(parseCliArgs(args), args.join(' ')).toEqual({ kind: 'error', message });
    // Several values of --token are fine; help wins over any mistake beside it.
    expect(parseCliArgs(['--token', 'a=u1', '--token=b=u2'])).toMatchObject({ kind: 'run', options: { tokens: { a: {}, b: {} } } });
    expect(parseCliArgs(['--bogus', '--help'])).toEqual({ kind: 'help' });
  });
});

describe('run-lifecycle-emulator', () => {
  it('prints its URL, answers requests and stops cleanly on SIGTERM', async () => {
    const child = startCli(['--port', '0', '--token', 'tok-u1=u1']);
    const done = exited(child);
    const baseURL = await printedBaseURL(child);
    const response = await fetch(`${baseURL}run/acme/sim/`, {
      method: 'POST',
      headers: { Authorization: 'Bearer tok-u1' },
      body: '{"model":"m.py"}',
    });
    expect(response.status).toBe(201);
    expect((await response.json()).user).toEqual({ id: 'u1', userName: 'u1' });
    child.kill('SIGTERM');
    const { code, stdout } = await done;
    expect(code).toBe(0);
    expect(stdout).toContain('stopped (SIGTERM)');
  });

  it('writes its data file and stops on SIGINT', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'run-lifecycle-cli-'));
    try {
      const dataFile = join(directory, 'runs.json');
      const child = startCli(['--port', '0', '--anonymous', '--data', dataFile]);
      const done = exited(child);
      const baseURL = await printedBaseURL(child);
      expect((await fetch(`${baseURL}run/acme/sim/`, { method: 'POST', body: '{"model":"m.py"}' })).status).toBe(201);
      child.kill('SIGINT');
      expect((await done).code).toBe(0);
      expect(JSON.parse(readFileSync(dataFile, 'utf8')).runs).toHaveLength(1);

      writeFileSync(dataFile, 'corrupt');
      const broken = await exited(startCli(['--port', '0', '--data', dataFile]));
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('corrupt');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('prints help with exit 0 and usage errors with exit 2', async () => {
    const help = await exited(startCli(['--help']));
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: run-lifecycle-emulator');
    expect(help.stderr).toBe('');
    for (const args of [['--bogus'], ['--port']]) {
      const bad = await exited(startCli(args));
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stdout).toBe('');
      // One line saying what is wrong, one pointing at --help; not Node's wording, not the whole usage.
      const [problem, hint, ...rest] = bad.stderr.split('\n');
      expect(problem).toBe(`run-lifecycle-emulator: ${args[0] === '--bogus' ? 'unknown option --bogus' : '--port needs a value'}`);
      expect(hint).toBe('Run run-lifecycle-emulator --help for the options.');
      expect(rest).toEqual(['']);
    }
  });
});
