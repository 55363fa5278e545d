/**
 * World API variants shared by the multiplayer strategies.
 */
import type { OutcomeVariant } from '../../../src/testing/index.js';
import type { World } from '../../../src/types.js';
import { world, worldRunTagged, worldRunUntagged, worldWithRun } from './fixtures.js';
import { done, http, requestFailures, responses, runPath, failed, errors, type ModelItem } from './http-script.js';

const WORLDS = 'multiplayer/world/';
const WORLD_RUN = `multiplayer/world/${world.id}/run`;
const LOAD = runPath('r-world/');

function worldsAnswer(label: string, worlds: World[]): OutcomeVariant<ModelItem> {
  return done(label, worlds[0], http('GET', WORLDS, { status: 200, json: worlds }));
}

/** findWorld: a world with or without a current run (`world.run`), no world, a failing lookup. */
export const findWorldOutcomes = (withRunVariant: boolean): OutcomeVariant<ModelItem>[] => [
  worldsAnswer('world', [world]),
  ...(withRunVariant ? [worldsAnswer('world with a run', [worldWithRun])] : []),
  worldsAnswer('no world', []),
  ...requestFailures('GET', WORLDS, ['unavailable']),
];

/** getWorldRun: 201 (created now), 200 (existing), 503. */
export const getWorldRunOutcomes: OutcomeVariant<ModelItem>[] = [
  done('201 created', { runId: 'r-world', freshlyCreated: true }, http('POST', WORLD_RUN, { status: 201, json: 'r-world' })),
  done('200 existing', { runId: 'r-world', freshlyCreated: false }, http('POST', WORLD_RUN, { status: 200, json: 'r-world' })),
  ...requestFailures('POST', WORLD_RUN, ['unavailable']),
];

/** replaceWorldRun: DELETE then POST, or a failing DELETE. */
export const replaceWorldRunOutcomes: OutcomeVariant<ModelItem>[] = [
  done(
    'replaced',
    { runId: 'r-world', freshlyCreated: true },
    http('DELETE', WORLD_RUN, { status: 200, body: '' }),
    http('POST', WORLD_RUN, { status: 201, json: 'r-world' }),
  ),
  failed('503', errors.unavailable(), http('DELETE', WORLD_RUN, responses.unavailable)),
];

/** loadRun of the world's run: found (with or without the tracking key), gone. */
export const loadWorldRunOutcomes = (withUntagged: boolean): OutcomeVariant<ModelItem>[] => [
  done('found', worldRunTagged, http('GET', LOAD, { status: 200, json: worldRunTagged })),
  ...(withUntagged ? [done('found untagged', worldRunUntagged, http('GET', LOAD, { status: 200, json: worldRunUntagged }))] : []),
  ...requestFailures('GET', LOAD, ['notFound']),
];

/** loadListedRun, the run the world list names: found, gone since the list was read (404), 503. */
export const loadListedRunOutcomes: OutcomeVariant<ModelItem>[] = [
  done('found', worldRunTagged, http('GET', LOAD, { status: 200, json: worldRunTagged })),
  ...requestFailures('GET', LOAD, ['notFound', 'unavailable']),
];

const CARRIES_RUN_WHY = 'the v2 world-run call answers only the run id (Epicenter v3 answers the whole run): covered by the v3 suite';

/** multiplayer's transitions that follow a world-run answer carrying the whole run. */
export const WORLD_RUN_CARRIES_RUN = {
  transitions: [
    'gettingWorldRun --xstate.done.actor.getWorldRun [worldRunCameWithRun]--> ready',
    'replacingWorldRun --xstate.done.actor.replaceWorldRun [worldRunCameWithRun]--> ready',
  ],
  why: CARRIES_RUN_WHY,
};

/** reuse-by-tracking-key-multiplayer's transitions that follow a world-run answer carrying the whole run. */
export const TRACKED_WORLD_RUN_CARRIES_RUN = {
  transitions: [
    'locked.gettingWorldRun --xstate.done.actor.getWorldRun [answeredCreatedRun]--> locked.applyingSettings',
    'locked.gettingWorldRun --xstate.done.actor.getWorldRun [worldRunCameWithRun]--> ready',
    'locked.replacingWorldRun --xstate.done.actor.replaceWorldRun [worldRunCameWithRun]--> locked.applyingSettings',
  ],
  why: CARRIES_RUN_WHY,
};
