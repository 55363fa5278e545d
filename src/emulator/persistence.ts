/** The optional data file: runs, worlds and the clock as JSON, validated at start and replaced atomically after changes. */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Run, World } from '../types.js';
import { isRecord } from './record-paths.js';
import { assertSeeds } from './seed-data.js';
import type { StoreSnapshot } from './store.js';

function corrupt(file: string, reason: string): Error {
  return new Error(`emulator data file ${file} is corrupt: ${reason} (fix or remove it; it was left untouched)`);
}

function validate(file: string, data: unknown): StoreSnapshot {
  if (!isRecord(data)) throw corrupt(file, 'not a JSON object');
  if (data.version !== 1) throw corrupt(file, `unknown version ${JSON.stringify(data.version)}`);
  if (typeof data.clock !== 'number' || !Number.isFinite(data.clock)) throw corrupt(file, 'clock is not a number');
  if (!Number.isSafeInteger(data.nextSeq) || (data.nextSeq as number) < 0) throw corrupt(file, 'nextSeq is not a non-negative integer');
  if (!Array.isArray(data.runs)) throw corrupt(file, 'runs is not an array');
  if (!Array.isArray(data.worlds)) throw corrupt(file, 'worlds is not an array');
  const { groups } = data;
  if (groups !== undefined) {
    const fields = ['account', 'project', 'name', 'key'];
    if (!Array.isArray(groups)) throw corrupt(file, 'groups is not an array');
    const bad = groups.findIndex((group: unknown) => !isRecord(group) || fields.some((field) => typeof group[field] !== 'string'));
    if (bad >= 0) throw corrupt(file, `groups[${bad}] needs string account, project, name and key`);
  }
  const missingId = data.runs.findIndex((run: unknown) => !isRecord(run) || typeof run.id !== 'string');
  if (missingId >= 0) throw corrupt(file, `runs[${missingId}] has no string id`);
  try {
    assertSeeds(data.runs as Array<Partial<Run>>, data.worlds as World[], { run: () => false, world: () => false });
  } catch (error) {
    throw corrupt(file, (error as Error).message);
  }
  return data as unknown as StoreSnapshot;
}

/** Reads and validates a data file; null when it does not exist. Throws without touching a corrupt file. */
export function readDataFile(file: string): StoreSnapshot | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read emulator data file ${file}: ${(error as Error).message}`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, (error as Error).message);
  }
  return validate(file, data);
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Nothing was written, or the path is not a file we made.
  }
}

/** Writes via a temporary file renamed over `file`, so a crash leaves the old or the new file, never half of one. */
export function writeDataFile(file: string, snapshot: StoreSnapshot): string {
  const text = JSON.stringify(snapshot);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch (error) {
    removeQuietly(temporary);
    throw error;
  }
  return text;
}
