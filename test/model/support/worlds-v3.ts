/**
 * World API variants of the multiplayer strategies on Epicenter v3. The v2 items stay (the v3 server
 * translates them), but the world-run call answers the whole run: its step scripts the world-run
 * POST and the run's load together, and its output carries the run, so the machines never load it
 * again (`loadingRun` is not reached on v3). `freshlyCreated` is what the v3 client can know: 201,
 * or a world whose listing named no run (the call then made one, whatever the status says).
 */
import { listedRunId } from '../../../src/machines/strategies/multiplayer.machine.js';
import type { WorldRunId } from '../../../src/services/api-types.js';
import type { OutcomeVariant } from '../../../src/testing/index.js';
import type { Run, World } from '../../../src/types.js';
import { world, worldWithRun } from './fixtures.js';
import { asV3Run, asV3World, worldRunTaggedV3, worldRunUntaggedV3 } from './fixtures-v3.js';
import { done, doneFrom, errors, failed, http, requestFailures, responses, runPath, type ModelItem } from './http-script.js';

const WORLDS = 'multiplayer/world/';
const WORLD_RUN = `multiplayer/world/${world.id}/run`;
const LOAD = runPath('r-world/');

function worldsAnswer(label: string, worlds: World[]): OutcomeVariant<ModelItem> {
  return done(label, worlds[0] && asV3World(worlds[0]), http('GET', WORLDS, { status: 200, json: worlds }));
}

/** findWorld: a world with or without a current run (`runKey`), no world, a failing lookup. */
export const findWorldOutcomesV3 = (withRunVariant: boolean): OutcomeVariant<ModelItem>[] => [
  worldsAnswer('world', [world]),
  ...(withRunVariant ? [worldsAnswer('world with a run', [worldWithRun])] : []),
  worldsAnswer('no world', []),
  ...requestFailures('GET', WORLDS, ['unavailable']),
];

/** The world-run POST (status 201 or 200) and the run it answers, as the v2 items of both requests. */
function worldRunItems(status: number, run: Run): ModelItem[] {
  return [http('POST', WORLD_RUN, { status, json: run.id }), http('GET', LOAD, { status: 200, json: run })];
}

function answered(run: Run, freshlyCreated: boolean): WorldRunId {
  return { runId: run.id, freshlyCreated, run: asV3Run(run) };
}

/**
 * getWorldRun: 201 (created now; with or without the tracking key), 200 (made now when the world
 * listing named no run, else the existing run), 503.
 */
export const getWorldRunOutcomesV3 = (withUntagged: boolean): OutcomeVariant<ModelItem>[] => [
  done('201 created', answered(worldRunTaggedV3, true), ...worldRunItems(201, worldRunTaggedV3)),
  ...(withUntagged ? [done('201 created untagged', answered(worldRunUntaggedV3, true), ...worldRunItems(201, worldRunUntaggedV3))] : []),
  doneFrom(
    '200',
    (snapshot) => answered(worldRunTaggedV3, listedRunId((snapshot.context as { world: World | null }).world) === undefined),
    worldRunItems(200, worldRunTaggedV3),
  ),
  ...requestFailures('POST', WORLD_RUN, ['unavailable']),
];

/** replaceWorldRun: DELETE then the world-run POST (the run answered with it), or a failing DELETE. */
export const replaceWorldRunOutcomesV3 = (withUntagged: boolean): OutcomeVariant<ModelItem>[] => [
  done(
    'replaced',
    answered(worldRunTaggedV3, true),
    http('DELETE', WORLD_RUN, { status: 200, body: '' }),
    ...worldRunItems(201, worldRunTaggedV3),
  ),
  ...(withUntagged
    ? [
        done(
          'replaced untagged',
          answered(worldRunUntaggedV3, true),
          http('DELETE', WORLD_RUN, { status: 200, body: '' }),
          ...worldRunItems(201, worldRunUntaggedV3),
        ),
      ]
    : []),
  failed('503', errors.unavailable(), http('DELETE', WORLD_RUN, responses.unavailable)),
];

/** loadListedRun, the run the world list names: found, gone since the list was read (404), 503. */
export const loadListedRunOutcomesV3: OutcomeVariant<ModelItem>[] = [
  done('found', asV3Run(worldRunTaggedV3), http('GET', LOAD, { status: 200, json: worldRunTaggedV3 })),
  ...requestFailures('GET', LOAD, ['notFound', 'unavailable']),
];
