/**
 * What every benchmark part produces (tables, goals, raw data), how it is printed, and how a part
 * merges its section into `bench/results.json`. A part is a module with a `main()`; run directly
 * (`tsx bench/<part>.ts`) it prints its tables and updates its own section of the results file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One printed table: a title, column names, rows of cells, and notes printed under it. */
export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  notes?: string[];
}

/** One goal, measured: met or missed, with the figure and why. */
export interface Goal {
  figure: string;
  goal: string;
  met: boolean;
  detail: string;
}

/** What a part returns. */
export interface PartResult {
  part: string;
  tables: Table[];
  goals: Goal[];
  data: unknown;
}

/** The results file every part writes into (`--results <file>` overrides). */
export const RESULTS_FILE = resolve(fileURLToPath(new URL('..', import.meta.url)), 'results.json');

function cell(value: string | number): string {
  return typeof value === 'number' ? String(value) : value;
}

/**
 * Renders a table as aligned text (numbers right-aligned).
 *
 * @example
 * ```ts
 * console.log(formatTable({ title: 'x', columns: ['a'], rows: [[1]] }));
 * ```
 */
export function formatTable(table: Table): string {
  const widths = table.columns.map((column, index) => Math.max(column.length, ...table.rows.map((row) => cell(row[index] ?? '').length)));
  const numeric = table.columns.map((_, index) => table.rows.length > 0 && table.rows.every((row) => typeof row[index] === 'number'));
  const line = (cells: Array<string | number>) =>
    cells
      .map((value, index) => {
        const text = cell(value ?? '');
        const width = widths[index] ?? text.length;
        return numeric[index] ? text.padStart(width) : text.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const out = [`\n== ${table.title} ==`, line(table.columns), rule, ...table.rows.map(line)];
  for (const note of table.notes ?? []) out.push(`  ${note}`);
  return out.join('\n');
}

/**
 * Renders goals as `[met]`/`[MISSED]` lines.
 *
 * @example
 * ```ts
 * console.log(formatGoals(result.goals));
 * ```
 */
export function formatGoals(goals: Goal[]): string {
  if (goals.length === 0) return '';
  return ['\nGoals:', ...goals.map((goal) => `  [${goal.met ? 'met' : 'MISSED'}] ${goal.figure}: ${goal.goal} — ${goal.detail}`)].join(
    '\n',
  );
}

/** Reads the results file (an object keyed by part), or `{}`. */
export function readResults(file: string = RESULTS_FILE): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Replaces one key of the results file. */
export function writeResultsSection(key: string, value: unknown, file: string = RESULTS_FILE): void {
  const results = readResults(file);
  results[key] = value;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

/** The value after `--name` in argv, if any. */
export function argValue(name: string, argv: readonly string[] = process.argv.slice(2)): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}

/** True when the module at `moduleUrl` is the program being run (not imported). */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && resolve(entry) === fileURLToPath(moduleUrl);
}

/**
 * Runs a part when its module is the entry point: prints its tables and goals and writes its
 * section of the results file.
 *
 * @example
 * ```ts
 * await runAsScript(import.meta.url, main);
 * ```
 */
export async function runAsScript(moduleUrl: string, main: () => Promise<PartResult>): Promise<void> {
  if (!isEntryPoint(moduleUrl)) return;
  const result = await main();
  for (const table of result.tables) console.log(formatTable(table));
  const goals = formatGoals(result.goals);
  if (goals) console.log(goals);
  const file = argValue('results') ?? RESULTS_FILE;
  writeResultsSection(result.part, { tables: result.tables, goals: result.goals, data: result.data }, file);
}

/** Median of numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A number with `digits` decimals. */
export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}
