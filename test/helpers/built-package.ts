/**
 * The built package (dist/) the package and documentation tests read: built once per test run, by
 * the global setup, so two test files never build at the same moment.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STAMP = join(ROOT, 'node_modules', '.cache', 'run-lifecycle', 'build.json');
const INPUTS = ['src', 'package.json', 'tsdown.config.ts', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Every file the package's `exports` and `bin` name, in dist/. */
function builtFiles(): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: unknown; bin?: Record<string, string> };
  const found = new Set<string>(Object.values(manifest.bin ?? {}));
  const visit = (value: unknown): void => {
    if (typeof value === 'string') found.add(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(manifest.exports);
  return [...found].filter((file) => file.startsWith('./dist/')).map((file) => join(ROOT, file));
}

/**
 * dist/ holds every file the package names and no input changed after the build that made it started
 * reading them (the build records that moment; an output's mtime would miss an edit made mid-build).
 */
export function distIsFresh(): boolean {
  const files = builtFiles();
  if (!existsSync(STAMP) || files.length === 0 || !files.every((file) => existsSync(file))) return false;
  const { startedAt } = JSON.parse(readFileSync(STAMP, 'utf8')) as { startedAt: number };
  if (Math.min(...files.map((file) => statSync(file).mtimeMs)) < startedAt) return false;
  return (
    Math.max(
      ...INPUTS.map((path) => join(ROOT, path))
        .filter(existsSync)
        .map(newestMtime),
    ) < startedAt
  );
}

/** Builds dist/ unless it is fresh. */
export async function ensureBuilt(): Promise<void> {
  if (distIsFresh()) return;
  await new Promise<void>((resolve, reject) => {
    execFile('npm', ['run', 'build'], { cwd: ROOT, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm run build failed:\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** Vitest global setup: build before any test file runs. */
export default async function setup(): Promise<void> {
  await ensureBuilt();
}
