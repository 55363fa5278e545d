/** `npm run demo`'s command line: --help prints the options without running anything; mistakes are usage errors. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

function demo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO, ...args], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run demo -- <options>', () => {
  it.each(['--help', '-h', '--v3 --help'])('%s prints the usage and exits 0 without running the demo', async (args) => {
    const { code, stdout, stderr } = await demo(args.split(' '));
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: npm run demo -- \[options\]/);
    for (const option of ['--v3', '--quiet', '--trace <file>', '-h, --help']) expect(stdout).toContain(option);
    expect(stdout).not.toContain('emulator at');
  });

  it.each<[string[], string]>([
    [['--bogus'], 'unknown option --bogus'],
    [['--trace'], '--trace needs a file name, e.g. --trace trace.jsonl'],
    [['--trace', '--v3'], '--trace needs a file name, e.g. --trace trace.jsonl'],
    [['--quiet=yes'], '--quiet takes no value, got "yes"'],
    [['v3'], 'unexpected argument "v3"'],
  ])('%j is a usage error: one line, a pointer to --help, exit 2', async (args, message) => {
    const { code, stdout, stderr } = await demo(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`demo: ${message}\nRun npm run demo -- --help for the options.\n`);
  });
});
