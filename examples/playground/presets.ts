/**
 * What the playground offers: the users (dev tokens come from the server), each built-in
 * strategy with the options it is tried with, and the data the emulator is seeded with so that
 * every strategy has something to find (a world for u1 and u2, a run for use-specific-run).
 */
import type { Run, StrategyName } from 'run-lifecycle';

/** The account, project and model every playground run belongs to. */
export const RUN_TARGET = { account: 'acme', project: 'sim', model: 'model.py' } as const;

/** The Epicenter API versions the playground switches between. */
export type ApiVersion = 2 | 3;

/** The v3 key of group g1 (v3 sessions and tokens name the group by key as well as by name). */
export const GROUP_KEY = 'key-g1';

/** A user to log in as. */
export interface PlaygroundUser {
  /** On v3 also the user's key. */
  userId: string;
  userName: string;
  groupName: string;
  /** The group's v3 key (sent on v3 only). */
  groupKey: string;
  /** What makes this user interesting. */
  note: string;
}

export const USERS: readonly PlaygroundUser[] = [
  { userId: 'u1', userName: 'alice', groupName: 'g1', groupKey: GROUP_KEY, note: 'in world w1' },
  { userId: 'u2', userName: 'bob', groupName: 'g1', groupKey: GROUP_KEY, note: 'in world w1' },
  { userId: 'u3', userName: 'carol', groupName: 'g1', groupKey: GROUP_KEY, note: 'in no world' },
];

/**
 * `strategyOptions.selfAssign` of the multiplayer strategies when the playground's selfAssign box is
 * ticked (Epicenter v3 only): a user in no world is placed by `POST world/selfassign/g1` in the
 * emptiest world of the group (w1 while it is the only one) and then gets that world's run.
 */
export const SELF_ASSIGN = { objective: 'MINIMUM' } as const;

/** The strategies that take `strategyOptions.selfAssign`. */
export const SELF_ASSIGN_STRATEGIES: readonly StrategyName[] = ['multiplayer', 'reuse-by-tracking-key-multiplayer'];

/** The run use-specific-run always loads. */
export const SPECIFIC_RUN_ID = 'playground-specific-run';

/** conditional-creation replaces the remembered run once it is older than this. */
export const CONDITION_MAX_AGE_MS = 20_000;

/** How a strategy is tried in the playground. */
export interface StrategyPreset {
  /** One sentence on what the strategy does, with these options. */
  summary: string;
  strategyOptions?: Record<string, unknown>;
  /** The options as shown to the person (functions written out). */
  shownOptions?: string;
  /** What is different on Epicenter v3, shown after the summary when v3 is chosen. */
  v3Note?: string;
}

export const PRESETS: Record<StrategyName, StrategyPreset> = {
  'reuse-never': { summary: 'Creates a new run on every getRun() and reset().' },
  'reuse-per-session': {
    summary: 'Keeps the run remembered in this browser (IndexedDB) while it exists; reset() creates a new one.',
  },
  'reuse-across-sessions': {
    summary: "Reuses the user's newest run of this model, from any browser; creates one when there is none.",
  },
  'reuse-last-initialized': {
    summary: 'Reuses the newest run whose init operations finished; otherwise creates one, runs init and step(5), and flags it.',
    strategyOptions: { initOperation: ['init', { step: [5] }] },
  },
  'reuse-by-tracking-key': {
    summary: 'Reuses the newest run with tracking key "playground"; creates up to 3 such runs, then RUN_LIMIT_REACHED.',
    strategyOptions: { settings: { trackingKey: 'playground', runLimit: 3 } },
  },
  'reuse-by-tracking-key-multiplayer': {
    summary: "The tracking-key run of the user's world (u1 and u2 share w1); up to 3 runs; u3 gets NO_WORLD_FOR_USER.",
    strategyOptions: { settings: { trackingKey: 'playground-world', runLimit: 3 } },
    v3Note: 'On v3, tick selfAssign and u3 is put in a world first (POST world/selfassign/g1).',
  },
  multiplayer: {
    summary: "The current run of the user's world: u1 and u2 share world w1 and so the run; u3 is in no world.",
    v3Note: "On v3, tick selfAssign and u3 is put in a world first (POST world/selfassign/g1), then shares that world's run.",
  },
  'use-specific-run': {
    summary: `Always loads run "${SPECIFIC_RUN_ID}"; reset() is not supported (RESET_NOT_SUPPORTED).`,
    strategyOptions: { runId: SPECIFIC_RUN_ID },
  },
  none: { summary: 'Resolves no run: getRun() gives back the RunService itself, reset() nothing. Sends no request.' },
  'conditional-creation': {
    summary: `Reuses the remembered run unless the condition says it is too old (> ${CONDITION_MAX_AGE_MS / 1000} s); reset() creates.`,
    strategyOptions: {
      condition: (run: Run) => Date.now() - Date.parse(run.created ?? '') > CONDITION_MAX_AGE_MS,
    },
    shownOptions: `{ condition: (run) => Date.now() - Date.parse(run.created) > ${CONDITION_MAX_AGE_MS} }`,
  },
};

/** Seed data for the emulator (`POST /_emulator/seed`). */
export const SEED = {
  worlds: [
    {
      id: 'w1',
      name: 'World 1',
      account: RUN_TARGET.account,
      project: RUN_TARGET.project,
      group: 'g1',
      users: [
        { userId: 'u1', userName: 'alice' },
        { userId: 'u2', userName: 'bob' },
      ],
    },
  ],
  runs: [
    {
      id: SPECIFIC_RUN_ID,
      ...RUN_TARGET,
      user: { id: 'u1', userName: 'alice' },
      scope: { group: 'g1' },
      variables: { price: 42 },
    },
  ],
};
