/**
 * Variants shared by the query-based strategies that recover a lost create (reuse-across-sessions,
 * reuse-by-tracking-key, reuse-last-initialized): the create's failures, lost answers included, and
 * what the lost-create search (find-created-run) ends with.
 */
import { LOOKS_AGAIN } from '../../../src/machines/strategies/find-created-run.machine.js';
import type { OutcomeVariant } from '../../../src/testing/index.js';
import type { Run } from '../../../src/types.js';
import { done, http, QUERY, requestFailures, responses, runPath, type ModelItem } from './http-script.js';

/**
 * createRun failing: a 503 (nothing was made), a dropped connection and a truncated 2xx body (the
 * answer is lost: `recovering` looks for the run).
 */
export const createFailures: OutcomeVariant<ModelItem>[] = requestFailures('POST', runPath(), ['unavailable', 'network', 'truncated']);

/**
 * findCreatedRun, the lost-create search, as a whole: it finds the run the create made at the first
 * look, or finds nothing at any of its 1 + LOOKS_AGAIN looks (each empty, or each failing) and gives
 * up. Replay it with `quickFindCreatedRun` so its waits take 1 ms.
 */
export function findCreatedRunOutcomes(found: Run): OutcomeVariant<ModelItem>[] {
  const looks = Array.from({ length: 1 + LOOKS_AGAIN });
  const empty = http('GET', QUERY, { status: 200, json: [], headers: { 'Content-Range': 'records */0' } });
  return [
    done('found the new run', found, http('GET', QUERY, { status: 200, json: [found], headers: { 'Content-Range': 'records 0-0/2' } })),
    done('nothing at any look', null, ...looks.map(() => empty)),
    done('unreachable at every look', null, ...looks.map(() => http('GET', QUERY, responses.unavailable))),
  ];
}
