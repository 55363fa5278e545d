/**
 * find-created-run: after a create whose answer was lost, look for the run it may have made before
 * creating again. The server may still be making it, so an empty or failed look waits (200 ms,
 * doubling) and looks again, at most three more times.
 */
import { assign, setup } from 'xstate';
import type { RunQueryResult } from '../../services/api-types.js';
import type { Run, RunFilter } from '../../types.js';
import { fetchLatest } from './actors.js';
import { carriesFlag, newestRunModifiers, startingContext } from './shared.js';
import type { StrategyServices } from './types.js';

export const LOOKS_AGAIN = 3;

/** Doubles for each later wait. */
export const FIRST_WAIT_MS = 200;

/**
 * Which run a look accepts as the created one: the newest untrashed match when it is not the one
 * newest before the create (`newerThan`), or when it does not carry the init flag yet (`unflagged`).
 */
export type CreatedRunRule = { kind: 'newerThan'; newestBeforeCreate: string | null } | { kind: 'unflagged'; flag: RunFilter };

/** Input of {@link findCreatedRunMachine}. */
export interface FindCreatedRunInput {
  /** The clients; the search calls `runApi.query`. */
  services: StrategyServices;
  /** The query that finds the strategy's own runs, newest first. */
  filter: RunFilter;
  /** Which run counts as the created one. */
  rule: CreatedRunRule;
  /** The paging spelling the strategy's own queries send. */
  spelling: 'lower' | 'camel';
}

export interface FindCreatedRunContext extends FindCreatedRunInput {
  /** 0 during the first look. */
  looksAgain: number;
  /** The run a look accepted, once found. */
  found: Run | null;
}

/** The run a look accepts, if any. */
export function acceptedRun(result: RunQueryResult, rule: CreatedRunRule): Run | undefined {
  const newest = result.runs[0];
  if (!newest || newest.trashed === true) return undefined;
  if (rule.kind === 'newerThan') return newest.id !== rule.newestBeforeCreate ? newest : undefined;
  return carriesFlag(newest, rule.flag) ? undefined : newest;
}

/** The find-created-run statechart: `looking → found | waiting → looking … | gaveUp`; output is the run, or `null`. */
export const findCreatedRunMachine = setup({
  types: {
    context: {} as FindCreatedRunContext,
    input: {} as FindCreatedRunInput,
    output: {} as Run | null,
    children: {} as { lookForCreatedRun: 'fetchLatest' },
    tags: {} as 'busy',
  },
  actors: { fetchLatest },
  delays: {
    // A create slowed past the client's timeout may land any moment: wait longer each time.
    waitBeforeLookingAgain: ({ context }) => FIRST_WAIT_MS * 2 ** context.looksAgain,
  },
  guards: {
    isCreatedRun: ({ context }, params: { result: RunQueryResult }) => acceptedRun(params.result, context.rule) !== undefined,
    mayLookAgain: ({ context }) => context.looksAgain < LOOKS_AGAIN,
  },
  actions: {
    keepCreatedRun: assign(({ context }, params: { result: RunQueryResult }) => ({
      found: acceptedRun(params.result, context.rule) ?? null,
    })),
    countLookAgain: assign(({ context }) => ({ looksAgain: context.looksAgain + 1 })),
  },
}).createMachine({
  id: 'find-created-run',
  context: ({ input }) => startingContext({ looksAgain: 0, found: null }, input),
  initial: 'looking',
  output: ({ context }) => context.found,
  states: {
    looking: {
      tags: 'busy',
      invoke: {
        id: 'lookForCreatedRun',
        src: 'fetchLatest',
        input: ({ context }) => ({ services: context.services, filter: context.filter, modifiers: newestRunModifiers(context.spelling) }),
        onDone: [
          {
            guard: { type: 'isCreatedRun', params: ({ event }) => ({ result: event.output }) },
            target: 'found',
            actions: { type: 'keepCreatedRun', params: ({ event }) => ({ result: event.output }) },
          },
          { guard: 'mayLookAgain', target: 'waiting' },
          { target: 'gaveUp' },
        ],
        onError: [{ guard: 'mayLookAgain', target: 'waiting' }, { target: 'gaveUp' }],
      },
    },
    waiting: {
      tags: 'busy',
      after: { waitBeforeLookingAgain: { target: 'looking', actions: 'countLookAgain' } },
    },
    found: { type: 'final' },
    gaveUp: { type: 'final' },
  },
});
