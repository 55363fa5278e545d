/**
 * The in-memory fake services of `fake-services.ts`, with the controls the tracking-key and
 * multiplayer strategy tests need on top: the `Content-Range` total a query reports (a number, or
 * `null` for a response without the header), the status of the world-run call (201 created / 200
 * existing, whatever actually happened), and helpers to seed worlds and runs.
 */
import type { RunQueryResult, WorldRunId } from '../../src/services/api-types.js';
import type { Run, World } from '../../src/types.js';
import { createFakeServices, type FakeServices, type FakeServicesOptions } from './fake-services.js';

/** The fake clients with world and total controls. */
export interface FakeWorldServices extends FakeServices {
  /**
   * From now on, queries report this total: a number, `null` (no `Content-Range`), or `undefined`
   * to report the real count again.
   */
  setQueryTotal(total: number | null | undefined): void;
  /**
   * From now on, the world-run call answers with this status: 201 (`freshlyCreated: true`), 200
   * (`freshlyCreated: false`), or `undefined` for the real outcome.
   */
  setWorldRunStatus(status: 200 | 201 | undefined): void;
  /** Adds a world (members as user ids) and returns it. */
  addWorld(world: Partial<World> & { id: string }, members?: string[]): World;
  /** Adds a run and returns it. */
  addRun(run: Partial<Run> & { id: string }): Run;
}

/**
 * Fake `RunApi` + `WorldApi` with a controllable query total and world-run status.
 *
 * @example
 * ```ts
 * const fake = createFakeWorldServices({ userId: 'u1' });
 * fake.addWorld({ id: 'w1', group: 'g1', lastModified: '2024-01-01T00:00:00.000Z' }, ['u1']);
 * fake.setQueryTotal(null); // the next queries come back without a Content-Range total
 * ```
 */
export function createFakeWorldServices(options: FakeServicesOptions = {}): FakeWorldServices {
  const fake = createFakeServices(options);
  let queryTotal: number | null | undefined;
  let worldRunStatus: 200 | 201 | undefined;

  const query = fake.runApi.query.bind(fake.runApi);
  fake.runApi.query = async (...args): Promise<RunQueryResult> => {
    const result = await query(...args);
    if (queryTotal === undefined) return result;
    return {
      runs: result.runs,
      total: queryTotal,
      range: queryTotal === null ? null : { start: 0, end: Math.max(result.runs.length - 1, 0), total: queryTotal },
    };
  };

  const currentRunId = fake.worldApi.currentRunId.bind(fake.worldApi);
  fake.worldApi.currentRunId = async (...args): Promise<WorldRunId> => {
    const result = await currentRunId(...args);
    return worldRunStatus === undefined ? result : { runId: result.runId, freshlyCreated: worldRunStatus === 201 };
  };

  return Object.assign(fake, {
    setQueryTotal: (total: number | null | undefined) => {
      queryTotal = total;
    },
    setWorldRunStatus: (status: 200 | 201 | undefined) => {
      worldRunStatus = status;
    },
    addWorld: (world: Partial<World> & { id: string }, members: string[] = []) => {
      const added: World = { users: members.map((userId) => ({ userId })), ...world };
      fake.worlds.push(added);
      return added;
    },
    addRun: (run: Partial<Run> & { id: string }) => {
      const added: Run = { trashed: false, ...run };
      fake.runs.push(added);
      return added;
    },
  });
}
