/**
 * Every ```ts block of README.md and docs/**\/*.md is a complete module that type-checks against the
 * package as it ships: each block is written to `.snippets/` (inside the repository, so
 * `run-lifecycle` resolves by package self-reference through package.json `exports` to the built
 * declarations in dist/), and all of them are checked as one TypeScript program under `strict`, without
 * `skipLibCheck`, with bundler resolution and both the DOM and Node types. A failure names the
 * markdown file and line. dist/ is built first when it is missing or older than its sources.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/built-package.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, '.snippets');

interface Block {
  /** The markdown file, relative to the root. */
  file: string;
  /** The line of the opening fence (1-based): snippet line n is markdown line `fence + n`. */
  fence: number;
  code: string;
  /** The module it is written to, relative to `.snippets/`. */
  module: string;
}

interface Diagnostic {
  /** `README.md:42:7` for a snippet, else the file (relative to the root) and position. */
  where: string;
  message: string;
}

function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    if (!existsSync(join(ROOT, dir))) return;
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && path !== 'docs/api') walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files;
}

/** The ```ts / ```typescript blocks of a markdown file (fences at the start of a line). */
function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let open: { fence: number; lines: string[]; typescript: boolean } | undefined;
  lines.forEach((text, index) => {
    if (!open) {
      const fence = /^```\s*(\S*)/.exec(text);
      if (fence) open = { fence: index + 1, lines: [], typescript: fence[1] === 'ts' || fence[1] === 'typescript' };
      return;
    }
    if (/^```\s*$/.test(text)) {
      if (open.typescript) {
        const module = `${file.replace(/[^A-Za-z0-9]+/g, '_')}_L${open.fence}.ts`;
        blocks.push({ file, fence: open.fence, code: open.lines.join('\n'), module });
      }
      open = undefined;
      return;
    }
    open.lines.push(text);
  });
  return blocks;
}

/** Syntax and type errors of every file in the program (tsc stops at syntax errors; this does not). */
function check(configFile: string, blocks: ReadonlyMap<string, Block>): Diagnostic[] {
  const config = ts.getParsedCommandLineOfConfigFile(configFile, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  })!;
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const found = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSourceFiles().flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ];
  return found.map((diagnostic) => {
    const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n    ')}`;
    if (!diagnostic.file || diagnostic.start === undefined) return { where: 'tsc', message };
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const block = blocks.get(relative(OUT, diagnostic.file.fileName));
    if (!block) return { where: `${relative(ROOT, diagnostic.file.fileName)}:${line + 1}:${character + 1}`, message };
    return { where: `${block.file}:${block.fence + line + 1}:${character + 1}`, message };
  });
}

/** Modules a block may import as `./name.js`: the example's files, checked along with the blocks. */
const EXAMPLE_MODULES: Readonly<Record<string, string>> = { 'favourite.machine.ts': 'examples/custom-strategy/favourite.machine.ts' };

const files = markdownFiles();
const blocks = files.flatMap(blocksOf);
const byModule = new Map(blocks.map((block) => [block.module, block]));
let diagnostics: Diagnostic[] = [];

function report(list: Diagnostic[]): string {
  return list.map((d) => `${d.where}: ${d.message}`).join('\n');
}

describe('TypeScript blocks in the documentation', () => {
  beforeAll(async () => {
    await ensureBuilt();
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    // The guides import the custom-strategy example as a sibling module, as its own directory does.
    for (const [name, source] of Object.entries(EXAMPLE_MODULES)) writeFileSync(join(OUT, name), readFileSync(join(ROOT, source)));
    for (const block of blocks) {
      // A block without import or export would be a script sharing one global scope with the others.
      const isModule = /^\s*(import|export)\s/m.test(block.code);
      writeFileSync(join(OUT, block.module), `${block.code}\n${isModule ? '' : 'export {};\n'}`);
    }
    const compilerOptions = {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'bundler',
      lib: ['ES2023', 'DOM', 'DOM.Iterable'],
      types: ['node'],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    };
    writeFileSync(join(OUT, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: blocks.map((block) => block.module) }, null, 2));
    diagnostics = check(join(OUT, 'tsconfig.json'), byModule).sort((a, b) => a.where.localeCompare(b.where, 'en', { numeric: true }));
  }, 300_000);

  it('finds blocks to check', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it('docs/custom-strategies.md shows examples/custom-strategy/favourite.machine.ts as it is', () => {
    const example = readFileSync(join(ROOT, EXAMPLE_MODULES['favourite.machine.ts']!), 'utf8').trim();
    const shown = blocks.filter((block) => block.file === 'docs/custom-strategies.md').map((block) => block.code.trim());
    expect(shown.includes(example), 'copy the example file into its block in docs/custom-strategies.md').toBe(true);
  });

  it('docs/testing.md shows test/examples/custom-strategy.test.ts as it is', () => {
    const test = readFileSync(join(ROOT, 'test/examples/custom-strategy.test.ts'), 'utf8')
      .replace("'../../examples/custom-strategy/favourite.machine.js'", "'./favourite.machine.js'")
      .trim();
    const shown = blocks.filter((block) => block.file === 'docs/testing.md').map((block) => block.code.trim());
    expect(shown.includes(test), 'copy the test into its block in docs/testing.md (importing ./favourite.machine.js)').toBe(true);
  });

  it('the shipped declarations, the example and the libraries they use type-check', () => {
    const outside = diagnostics.filter((d) => !files.some((file) => d.where.startsWith(`${file}:`)));
    expect(outside.length, `\n${report(outside)}\n`).toBe(0);
  });

  for (const file of files) {
    const count = blocks.filter((block) => block.file === file).length;
    if (count === 0) continue;
    it(`${file}: ${count} block(s) type-check`, () => {
      const mine = diagnostics.filter((d) => d.where.startsWith(`${file}:`));
      expect(mine.length, `${mine.length} error(s) in the TypeScript blocks of ${file}:\n${report(mine)}\n`).toBe(0);
    });
  }
});
