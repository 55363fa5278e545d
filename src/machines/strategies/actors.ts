/**
 * The named side effects strategy machines invoke. Each is a `fromPromise` that receives
 * `{ input, signal }` and hands `signal` to the client, so stopping the actor aborts the request.
 * Swap any of them with `machine.provide({ actors: { … } })` in tests.
 */
import { fromPromise } from 'xstate';
import type { CreateRunParams, LoadedRun, RunQueryResult, WorldRunId } from '../../services/api-types.js';
import type { Operations, QueryModifiers, Run, RunFilter, World } from '../../types.js';
import type { StrategyServices } from './types.js';

/** Every strategy actor gets the services in its input. */
export interface WithServices {
  services: StrategyServices;
}

/**
 * `GET run/{id}/` — the run a session record points at.
 *
 * @example
 * ```ts
 * invoke: { id: 'loadRun', src: 'loadRun', input: ({ context }) => ({ services: context.services, runId: context.cachedRun!.id }) }
 * ```
 */
export const loadRun = fromPromise<Run, WithServices & { runId: string; include?: string[] }>(({ input, signal }) =>
  input.services.runApi.load(input.runId, input.include?.length ? { signal, include: input.include } : { signal }),
);

/**
 * `GET run/{id}/` with the response headers (conditional strategies pass them to their condition).
 *
 * @example
 * ```ts
 * invoke: { id: 'loadRun', src: 'loadRunWithHeaders', input: ({ context }) => ({ services: context.services, runId }) }
 * ```
 */
export const loadRunWithHeaders = fromPromise<LoadedRun, WithServices & { runId: string; include?: string[] }>(({ input, signal }) =>
  input.services.runApi.loadWithHeaders(input.runId, input.include?.length ? { signal, include: input.include } : { signal }),
);

/**
 * A run query for the newest matching run (and the `Content-Range` total).
 *
 * @example
 * ```ts
 * invoke: { id: 'fetchLatest', src: 'fetchLatest', input: ({ context }) => ({ services, filter, modifiers: newestRunModifiers('lower') }) }
 * ```
 */
export const fetchLatest = fromPromise<RunQueryResult, WithServices & { filter: RunFilter; modifiers: QueryModifiers }>(
  ({ input, signal }) => input.services.runApi.query(input.filter, input.modifiers, { signal }),
);

/**
 * `POST run/` — a new run. Never retried blindly (the client does not retry POSTs).
 *
 * @example
 * ```ts
 * invoke: { id: 'createRun', src: 'createRun', input: ({ context }) => ({ services, params: createParams(config, session) }) }
 * ```
 */
export const createRun = fromPromise<Run, WithServices & { params: CreateRunParams }>(({ input, signal }) =>
  input.services.runApi.create(input.params, { signal }),
);

/**
 * Runs init operations on a run, one at a time.
 *
 * @example
 * ```ts
 * invoke: { id: 'runInitOperations', src: 'runInitOperations', input: ({ context }) => ({ services, runId, operations: ['init'] }) }
 * ```
 */
export const runInitOperations = fromPromise<unknown[], WithServices & { runId: string; operations: Operations }>(({ input, signal }) =>
  input.services.runApi.serial(input.runId, input.operations, { signal }),
);

/**
 * `PATCH run/{id}/` with the given attributes (flags, tracking keys, trash markers).
 *
 * @example
 * ```ts
 * invoke: { id: 'saveFlag', src: 'saveRun', input: ({ context }) => ({ services, runId, attributes: { isInitComplete: true } }) }
 * ```
 */
export const saveRun = fromPromise<Run, WithServices & { runId: string; attributes: Record<string, unknown> }>(({ input, signal }) =>
  input.services.runApi.save(input.runId, input.attributes, { signal }),
);

/**
 * The user's current world (newest `lastModified`), or `undefined`.
 *
 * @example
 * ```ts
 * invoke: { id: 'findWorld', src: 'findWorld', input: ({ context }) => ({ services, userId: 'u1', groupName: 'g1' }) }
 * ```
 */
export const findWorld = fromPromise<World | undefined, WithServices & { userId: string; groupName?: string }>(({ input, signal }) => {
  const user = input.groupName ? { userId: input.userId, groupName: input.groupName } : { userId: input.userId };
  return input.services.worldApi.currentWorldForUser(user, { signal });
});

/**
 * `POST multiplayer/world/{id}/run` — the world's current run id (201: created now).
 *
 * @example
 * ```ts
 * invoke: { id: 'getWorldRun', src: 'getWorldRun', input: ({ context }) => ({ services, worldId, params }) }
 * ```
 */
export const getWorldRun = fromPromise<WorldRunId, WithServices & { worldId: string; params: CreateRunParams }>(({ input, signal }) =>
  input.services.worldApi.currentRunId(input.worldId, input.params, { signal }),
);

/**
 * `DELETE` then `POST multiplayer/world/{id}/run` — a new current run for the world.
 *
 * @example
 * ```ts
 * invoke: { id: 'replaceWorldRun', src: 'replaceWorldRun', input: ({ context }) => ({ services, worldId, params }) }
 * ```
 */
export const replaceWorldRun = fromPromise<WorldRunId, WithServices & { worldId: string; params: CreateRunParams }>(({ input, signal }) =>
  input.services.worldApi.newRunForWorld(input.worldId, input.params, { signal }),
);
