/**
 * find-created-run: after a create whose answer was lost (the connection dropped or timed out, or a
 * 2xx body came back unreadable), look for the run the create may have made before anything else
 * is created. The server may still be making it, or be unreachable for a moment, so an empty or
 * failed look waits (200 ms, doubling) and looks again, at most three more times.
 *
 * One child machine, invoked as `findCreatedRun` by every strategy that can find its own runs
 * again (reuse-across-sessions, reuse-by-tracking-key, reuse-last-initialized).
 */
import { assign, setup } from 'xstate';
import type { RunQueryResult } from '../../services/api-types.js';
import type { Run, RunFilter } from '../../types.js';
import { fetchLatest } from './actors.js';
import { carriesFlag, newestRunModifiers } from './shared.js';
import type { StrategyServices } from './types.js';

/** How many times the machine looks again after its first look found nothing or failed. */
export const LOOKS_AGAIN = 3;

/** The wait before the first look again, in ms; each later wait doubles it. */
export const FIRST_WAIT_MS = 200;

/**
 * Which run a look accepts as the one the create made:
 * - `newerThan`: the newest matching run, untrashed, when it is not the one that was newest before
 *   the create (`null`: there was none);
 * - `unflagged`: the newest matching run, untrashed, when it does not carry the init flag yet.
 */
export type CreatedRunRule = { kind: 'newerThan'; newestBeforeCreate: string | null } | { kind: 'unflagged'; flag: RunFilter };

/** Input of {@link findCreatedRunMachine}. */
export interface FindCreatedRunInput {
  services: StrategyServices;
  /** The query that finds the strategy's own runs; the newest comes first. */
  filter: RunFilter;
  rule: CreatedRunRule;
  /** `'lower'` or `'camel'` paging parameters, as the strategy's own queries send them. */
  spelling: 'lower' | 'camel';
}

/** Context of {@link findCreatedRunMachine}. */
export interface FindCreatedRunContext extends FindCreatedRunInput {
  /** Looks again so far (0 during the first look). */
  looksAgain: number;
  found: Run | null;
}

/**
 * The run a look accepts, if any.
 *
 * @example
 * ```ts
 * acceptedRun({ runs: [run], total: 1, range: null }, { kind: 'newerThan', newestBeforeCreate: null }); // run
 * ```
 */
export function acceptedRun(result: RunQueryResult, rule: CreatedRunRule): Run | undefined {
  const newest = result.runs[0];
  if (!newest || newest.trashed === true) return undefined;
  if (rule.kind === 'newerThan') return newest.id !== rule.newestBeforeCreate ? newest : undefined;
  return carriesFlag(newest, rule.flag) ? undefined : newest;
}

/**
 * The find-created-run statechart: `looking → found | waiting → looking … | gaveUp`. Its output is
 * the run the create made, or `null` when none was found after the last look.
 *
 * @example
 * ```ts
 * recovering: {
 *   invoke: { id: 'findCreatedRun', src: 'findCreatedRun', input: ({ context }) => ({ services, filter, rule, spelling: 'lower' }),
 *             onDone: [{ guard: 'foundCreatedRun', target: 'ready' }, { target: 'error' }] },
 * }
 * ```
 */
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
  context: ({ input }) => ({ ...input, looksAgain: 0, found: null }),
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
