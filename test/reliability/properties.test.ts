/**
 * Property-based tests (fast-check, bounded runs):
 * - the matrix filter encoding (`toMatrix`) round-trips through the emulator's decoding
 *   (`parseMatrix`) after the URL normalisation `fetch` applies, so no key or value can add,
 *   remove or widen a condition;
 * - the values the strategies themselves put in a filter (user id, group, tracking key, model) are
 *   always literal equalities;
 * - the session record parser never throws and never accepts a record for another user or model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMatrix, type MatrixCondition } from '../../src/emulator/matrix.js';
import { RunManagerError, type RunFilter } from '../../src/index.js';
import { toMatrix } from '../../src/services/filter.js';
import { parseSessionRecord, createSessionRecord } from '../../src/services/session-store.js';
import { latestRunFilter } from '../../src/machines/strategies/reuse-across-sessions.machine.js';
import { trackingKeyFilter } from '../../src/machines/strategies/reuse-by-tracking-key.machine.js';

const RUNS = 200;
const OPERATORS = ['<=', '>=', '!=', '<', '>'] as const;

/** The characters that break naive encodings, plus ordinary and non-ASCII ones. */
const SPECIALS = [
  ';',
  '/',
  '?',
  '#',
  '&',
  '=',
  '!',
  '<',
  '>',
  '%',
  ' ',
  '.',
  '+',
  ',',
  "'",
  '"',
  '\\',
  '`',
  '{',
  '}',
  '|',
  '^',
  '~',
  '*',
  '(',
  ')',
  '[',
  ']',
  '@',
  '$',
  ':',
  '\t',
  '\n',
  '%3C',
  '%3E',
  '%3B',
  '%25',
];
const char = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 2, arbitrary: fc.constantFrom('a', 'b', 'Z', '0', '9', '-', '_') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);
/** Well-formed strings (no lone surrogates) rich in special characters. */
const text = (minLength = 0) => fc.string({ unit: char, minLength, maxLength: 10 });
/** Keys without `<` or `>` (see the key property below for those). */
const plainKey = text(1).filter((key) => !/[<>]/.test(key));

const scalar = fc.oneof(text(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const filterValue = (key: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 4, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(key, scalar, { maxKeys: 3 }) },
  );
const filterOf = (key: fc.Arbitrary<string>) => fc.dictionary(key, filterValue(key), { maxKeys: 5 }) as fc.Arbitrary<RunFilter>;

/** The conditions a filter means, written independently of `toMatrix`. */
function intended(filter: RunFilter): MatrixCondition[] {
  const conditions: MatrixCondition[] = [];
  const visit = (key: string, value: unknown): void => {
    if (value === undefined) return;
    if (Array.isArray(value)) {
      for (const element of value) visit(key, element);
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [child, childValue] of Object.entries(value)) visit(`${key}.${child}`, childValue);
      return;
    }
    if (value === null) {
      conditions.push({ key, operator: '=', value: 'null' });
      return;
    }
    if (typeof value === 'string') {
      const operator = OPERATORS.find((op) => value.startsWith(op));
      if (operator) {
        conditions.push({ key, operator, value: value.slice(operator.length) });
        return;
      }
    }
    conditions.push({ key, operator: '=', value: String(value) });
  };
  for (const [key, value] of Object.entries(filter)) visit(key, value);
  return conditions;
}

/**
 * What the emulator decodes from a matrix segment as it arrives: the segment goes through the URL
 * parser `fetch` uses (which percent-encodes `<`, `>` and the like in paths), then `parseMatrix`.
 */
function decodedOnTheWire(matrix: string): MatrixCondition[] {
  const url = new URL(`http://127.0.0.1/v2/run/acme/sim/${matrix}/`);
  const segment = url.pathname.split('/')[5] ?? '';
  return parseMatrix(segment);
}

describe('the matrix filter encoding round-trips through the emulator', () => {
  it('decodes exactly the intended conditions for any values (keys without < or >)', () => {
    fc.assert(
      fc.property(filterOf(plainKey), (filter) => {
        expect(decodedOnTheWire(toMatrix(filter))).toEqual(intended(filter));
      }),
      { numRuns: RUNS },
    );
  });

  it('a hostile value never adds a condition: x;user.id=u2 and friends stay one literal condition', () => {
    fc.assert(
      fc.property(
        text(),
        fc.constantFrom(';user.id=u2', ';', '/;/', '?user.id=u2', '#', '&startrecord=0', '=u2', '%3Buser.id%3Du2'),
        (prefix, injection) => {
          const value = `x${prefix}${injection}`;
          expect(decodedOnTheWire(toMatrix({ 'scope.trackingKey': value, 'user.id': 'u1' }))).toEqual([
            { key: 'scope.trackingKey', operator: '=', value },
            { key: 'user.id', operator: '=', value: 'u1' },
          ]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('any key either round-trips or is refused with INVALID_OPTIONS (keys with < or > included)', () => {
    fc.assert(
      fc.property(text(1), text(), (key, value) => {
        let matrix: string;
        try {
          matrix = toMatrix({ [key]: value });
        } catch (error) {
          expect(error).toBeInstanceOf(RunManagerError);
          expect((error as RunManagerError).type).toBe('INVALID_OPTIONS');
          return;
        }
        expect(decodedOnTheWire(matrix)).toEqual(intended({ [key]: value }));
      }),
      {
        numRuns: RUNS,
        examples: [
          ['a<b', 'x'],
          ['>', 'y'],
        ],
      },
    );
  });

  it('strings with lone surrogates (a key cut in half) are encoded or refused typed, never a raw URIError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 6 }), (value) => {
        let matrix: string;
        try {
          matrix = toMatrix({ 'scope.trackingKey': value });
        } catch (error) {
          expect(error).toBeInstanceOf(RunManagerError);
          expect((error as RunManagerError).type).toBe('INVALID_OPTIONS');
          return;
        }
        expect(decodedOnTheWire(matrix)).toHaveLength(1);
      }),
      { numRuns: RUNS, examples: [['week-\uD83D']], endOnFailure: true },
    );
  });
});

describe("the strategies' own filter values are literal equalities", () => {
  const identity = fc.record({ userId: text(1), groupName: text(1), trackingKey: text(1), model: text(1) });

  it('reuse-by-tracking-key: user id, group and tracking key never become operators', () => {
    fc.assert(
      fc.property(identity, ({ userId, groupName, trackingKey, model }) => {
        const filter = trackingKeyFilter({
          trackingKey,
          options: { filter: { trashed: false }, settings: {} },
          config: { account: 'acme', project: 'sim', model },
          session: { userId, groupName },
        } as unknown as Parameters<typeof trackingKeyFilter>[0]);
        const decoded = decodedOnTheWire(toMatrix(filter));
        expect(new Set(decoded.map((condition) => JSON.stringify(condition)))).toEqual(
          new Set(
            [
              { key: 'scope.group', operator: '=', value: groupName },
              { key: 'scope.trackingKey', operator: '=', value: trackingKey },
              { key: 'trashed', operator: '=', value: 'false' },
              { key: 'user.id', operator: '=', value: userId },
            ].map((condition) => JSON.stringify(condition)),
          ),
        );
      }),
      { numRuns: RUNS, examples: [[{ userId: 'u1', groupName: 'g1', trackingKey: '>a', model: 'model.py' }]] },
    );
  });

  it('reuse-across-sessions: user id, group and model never become operators', () => {
    fc.assert(
      fc.property(identity, ({ userId, groupName, model }) => {
        const filter = latestRunFilter({ filter: {} }, { account: 'acme', project: 'sim', model }, { userId, groupName });
        const decoded = decodedOnTheWire(toMatrix(filter));
        expect(decoded.every((condition) => condition.operator === '=')).toBe(true);
        expect(decoded).toContainEqual({ key: 'user.id', operator: '=', value: userId });
        expect(decoded).toContainEqual({ key: 'model', operator: '=', value: model });
      }),
      { numRuns: RUNS, examples: [[{ userId: '!=nobody', groupName: 'g1', trackingKey: 'k', model: 'model.py' }]] },
    );
  });
});

/**
 * Makers of hostile values: objects whose chosen properties throw when read, proxies whose traps
 * throw, a revoked proxy. (Makers, because fast-check itself inspects the values it generates.)
 */
const hostile: fc.Arbitrary<() => unknown> = fc.oneof(
  fc
    .record({ v: fc.boolean(), runId: fc.boolean(), userId: fc.boolean(), model: fc.boolean(), savedAt: fc.boolean() })
    .map((throws) => () => {
      const record: Record<string, unknown> = {};
      const values: Record<string, unknown> = { v: 1, runId: 'r1', userId: 'u1', model: 'model.py', savedAt: 1 };
      for (const [key, value] of Object.entries(values)) {
        Object.defineProperty(record, key, {
          enumerable: true,
          get: () => {
            if (throws[key as keyof typeof throws]) throw new Error(`${key} is poisoned`);
            return value;
          },
        });
      }
      return record;
    }),
  fc.constantFrom('get', 'getPrototypeOf', 'ownKeys', 'has', 'getOwnPropertyDescriptor').map(
    (trap) => () =>
      new Proxy(
        { v: 1, runId: 'r1', userId: 'u1', model: 'model.py', savedAt: 1 },
        {
          [trap]: () => {
            throw new Error(`${trap} trap`);
          },
        },
      ),
  ),
  fc.constant(() => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  }),
);

describe('the session record parser', () => {
  const owner = fc.record({ userId: fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined)), model: fc.string() });

  it('never throws, whatever is stored; what it accepts is a current record of the owner', () => {
    const anything = fc.anything({
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withObjectString: true,
      withBigInt: true,
      maxDepth: 3,
    });
    fc.assert(
      fc.property(
        fc.oneof(
          anything.map((value) => () => value),
          hostile,
        ),
        owner,
        (make, who) => {
          let parsed: ReturnType<typeof parseSessionRecord>;
          expect(() => {
            parsed = parseSessionRecord(make(), who);
          }).not.toThrow();
          if (parsed === undefined) return;
          expect(parsed.v).toBe(1);
          expect(parsed.userId).toBe(who.userId ?? null);
          expect(parsed.model).toBe(who.model);
          expect(typeof parsed.runId === 'string' && parsed.runId.length > 0).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("accepts a record exactly when it is the owner's: never another user's or another model's", () => {
    const record = fc.record(
      {
        v: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.anything() }),
        runId: fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: 1 }) }, { weight: 1, arbitrary: fc.anything() }),
        userId: fc.oneof(fc.constantFrom('u1', 'u2', 'U1', 'u1 ', ''), fc.string(), fc.constant(null)),
        model: fc.oneof(fc.constantFrom('model.py', 'other.py', 'Model.py', 'model.py '), fc.string()),
        savedAt: fc.oneof({ weight: 4, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.anything() }),
        worldId: fc.string(),
      },
      { requiredKeys: ['userId', 'model'] },
    );
    const who = fc.record({
      userId: fc.oneof(fc.constantFrom('u1', 'u2'), fc.string(), fc.constant(null), fc.constant(undefined)),
      model: fc.constantFrom('model.py', 'other.py'),
    });
    fc.assert(
      fc.property(record, who, (value, owner) => {
        const wellFormed =
          value.v === 1 &&
          typeof value.runId === 'string' &&
          value.runId.length > 0 &&
          typeof value.savedAt === 'number' &&
          Number.isFinite(value.savedAt);
        const owned = value.userId === (owner.userId ?? null) && value.model === owner.model;
        const parsed = parseSessionRecord(value, owner);
        expect(parsed !== undefined).toBe(wellFormed && owned);
        if (parsed) expect(parsed.runId).toBe(value.runId);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips every record it creates, for that owner only', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), owner, owner, (runId, who, other) => {
        const record = createSessionRecord(runId, who);
        // '.' and '..' cannot address a run: such a record is discarded, never followed.
        if (runId === '.' || runId === '..') {
          expect(parseSessionRecord(structuredClone(record), who)).toBeUndefined();
          return;
        }
        expect(parseSessionRecord(structuredClone(record), who)?.runId).toBe(runId);
        const same = (who.userId ?? null) === (other.userId ?? null) && who.model === other.model;
        expect(parseSessionRecord(record, other) !== undefined).toBe(same);
      }),
      { numRuns: RUNS },
    );
  });
});
