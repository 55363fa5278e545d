/** Run updates: a PATCH body is validated as a whole first, so a bad key changes nothing, then applied to one or many runs. */
import type { Run } from '../types.js';
import { HttpError } from './http.js';
import { StoreBudget } from './limits.js';
import { assertSafeKeys, isRecord, mergeInto, setPath, splitKey } from './record-paths.js';

/** Owned by the server: PATCH keys naming them (or their sub-fields) are ignored. */
const READ_ONLY = new Set(['id', 'account', 'project', 'user', 'created', 'lastModified']);

/** One validated change: set a dotted path, or merge an object into the variables. */
export type PatchStep = { kind: 'set'; path: string[]; value: unknown } | { kind: 'mergeVariables'; values: Record<string, unknown> };

/**
 * Validates a PATCH body of dotted paths (`scope.trackingKey`, `.price`); a `variables` object is
 * merged. Read-only fields are skipped; anything malformed or too deep or large to store is 400.
 */
export function compilePatch(body: unknown): PatchStep[] {
  if (!isRecord(body)) throw new HttpError(400, 'the body must be a JSON object of fields to update');
  const steps: PatchStep[] = [];
  const budget = new StoreBudget('the update');
  for (const [key, value] of Object.entries(body)) {
    const path = splitKey(key);
    if (READ_ONLY.has(path[0] as string)) continue;
    // Checked against where each step writes: the rest of the run is left as it was.
    budget.path(key, path.length);
    budget.value(value, path.length);
    if (key === 'variables' && isRecord(value)) {
      assertSafeKeys(value);
      steps.push({ kind: 'mergeVariables', values: value });
    } else if (key === 'variables' && value !== null) {
      throw new HttpError(400, 'variables must be an object (merged into the run) or null');
    } else {
      steps.push({ kind: 'set', path, value });
    }
  }
  return steps;
}

/** The run's variables object, created when the run has none. */
export function ensureVariables(run: Run): Record<string, unknown> {
  if (!isRecord(run.variables)) run.variables = {};
  return run.variables;
}

/** Applies validated steps; values are deep-copied so runs never share objects. */
export function applyPatch(run: Run, steps: readonly PatchStep[]): void {
  for (const step of steps) {
    if (step.kind === 'mergeVariables') mergeInto(ensureVariables(run), structuredClone(step.values));
    else setPath(run, step.path, structuredClone(step.value));
  }
}
