/**
 * The named side effects strategy machines invoke. Each hands `signal` to the client, so stopping
 * the actor aborts the request; swap them with `machine.provide({ actors })` in tests.
 */
import { fromPromise } from 'xstate';
import type { CreateRunParams, LoadedRun, RunQueryResult, WorldRunId, WorldUser } from '../../services/api-types.js';
import type { Operations, QueryModifiers, Run, RunFilter, World } from '../../types.js';
import type { StrategyServices } from './types.js';

/** Every actor's input carries the strategy's services (pass `input.services` on). */
export interface WithServices {
  /** The clients the actor calls. */
  services: StrategyServices;
}

/** `GET run/{id}/`: the run a session record points at. Input `{ services, runId, include? }` (variable names). */
export const loadRun = fromPromise<Run, WithServices & { runId: string; include?: string[] }>(({ input, signal }) =>
  input.services.runApi.load(input.runId, input.include?.length ? { signal, include: input.include } : { signal }),
);

/** `GET run/{id}/` with the response headers (conditional strategies pass them to their condition). Input as `loadRun`'s. */
export const loadRunWithHeaders = fromPromise<LoadedRun, WithServices & { runId: string; include?: string[] }>(({ input, signal }) =>
  input.services.runApi.loadWithHeaders(input.runId, input.include?.length ? { signal, include: input.include } : { signal }),
);

/** A run query, `{ runs, total, range }`. Input `{ services, filter, modifiers }`; see `newestRunModifiers`. */
export const fetchLatest = fromPromise<RunQueryResult, WithServices & { filter: RunFilter; modifiers: QueryModifiers }>(
  ({ input, signal }) => input.services.runApi.query(input.filter, input.modifiers, { signal }),
);

/** `POST run/`; input `{ services, params }` (see `createParams`). Never retried blindly: the client does not retry POSTs. */
export const createRun = fromPromise<Run, WithServices & { params: CreateRunParams }>(({ input, signal }) =>
  input.services.runApi.create(input.params, { signal }),
);

/** Runs operations on a run, one at a time; input `{ services, runId, operations }`. */
export const runInitOperations = fromPromise<unknown[], WithServices & { runId: string; operations: Operations }>(({ input, signal }) =>
  input.services.runApi.serial(input.runId, input.operations, { signal }),
);

/** `PATCH run/{id}/` (flags, tracking keys, trash markers); input `{ services, runId, attributes }`. */
export const saveRun = fromPromise<Run, WithServices & { runId: string; attributes: Record<string, unknown> }>(({ input, signal }) =>
  input.services.runApi.save(input.runId, input.attributes, { signal }),
);

/** The user's current world (newest `lastModified`), or `undefined`; input `{ services, userId, groupName?, selfAssign? }`. */
export const findWorld = fromPromise<World | undefined, WithServices & WorldUser>(({ input, signal }) => {
  const { services, ...user } = input;
  return services.worldApi.currentWorldForUser(user, { signal });
});

/** `POST multiplayer/world/{id}/run`: the world's current run id (201: created now); input `{ services, worldId, params }`. */
export const getWorldRun = fromPromise<WorldRunId, WithServices & { worldId: string; params: CreateRunParams }>(({ input, signal }) =>
  input.services.worldApi.currentRunId(input.worldId, input.params, { signal }),
);

/** `DELETE` then `POST multiplayer/world/{id}/run`: a new current run for the world; input as `getWorldRun`'s. */
export const replaceWorldRun = fromPromise<WorldRunId, WithServices & { worldId: string; params: CreateRunParams }>(({ input, signal }) =>
  input.services.worldApi.newRunForWorld(input.worldId, input.params, { signal }),
);
