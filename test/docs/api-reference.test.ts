/**
 * The API reference builds clean: TypeDoc over the six entries (typedoc.json) with every export
 * documented, every link resolving and nothing referenced that is not exported, as `npm run docs`
 * runs it (warnings are errors there), without writing docs/api.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPEDOC = fileURLToPath(new URL('../../node_modules/typedoc/bin/typedoc', import.meta.url));

it('typedoc reports no warnings and no errors', async () => {
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [TYPEDOC, '--emit', 'none', '--logLevel', 'Warn'],
      { cwd: ROOT, timeout: 90_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
  const problems = output
    .split('\n')
    // eslint-disable-next-line no-control-regex -- TypeDoc colours its output even without a terminal
    .map((line) => line.replace(/\u001b\[[0-9;]*m/g, '').trim())
    .filter((line) => /^\[(warning|error)\]/.test(line) && !/Found \d+ errors and \d+ warnings/.test(line));
  expect(problems, problems.join('\n')).toEqual([]);
  expect(code, output).toBe(0);
}, 120_000);
