import { describe, expect, it } from 'vitest';
import { RunManagerError } from '../../src/errors.js';
import { literal } from '../../src/services/filter.js';
import { toV3Filter, toV3QueryParams, v3FieldOf, v3QueryString } from '../../src/services/filter-v3.js';

const CONTEXT = { model: 'model.py', groupKey: 'gk-1', groupName: 'g1' };

function refusal(run: () => unknown): RunManagerError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RunManagerError);
    return error as RunManagerError;
  }
  throw new Error('expected a RunManagerError');
}

describe('toV3Filter: the query scope', () => {
  it('no scope → the session group by its key, the default model, no conditions', () => {
    expect(toV3Filter({}, CONTEXT)).toEqual({ scopeBoundary: 'GROUP', scopeKey: 'gk-1', model: 'model.py', filter: '' });
    expect(toV3Filter(undefined, CONTEXT).scopeKey).toBe('gk-1');
  });

  it('scope.group (a name, literal or plain) picks the session group by key, and is not a condition', () => {
    for (const group of ['g1', literal('g1'), { $eq: 'g1' }]) {
      expect(toV3Filter({ scope: { group } }, CONTEXT)).toMatchObject({ scopeBoundary: 'GROUP', scopeKey: 'gk-1', filter: '' });
    }
    expect(toV3Filter({ 'scope.group': 'g1' }, CONTEXT).filter).toBe('');
  });

  it("a group name that is not the session's → INVALID_OPTIONS (never another group's runs)", () => {
    const error = refusal(() => toV3Filter({ scope: { group: { $eq: 'other' } } }, CONTEXT));
    expect(error.type).toBe('INVALID_OPTIONS');
    expect(error.message).toContain('"other"');
  });

  it('a group name is not checked when the session has no name', () => {
    expect(toV3Filter({ scope: { group: 'x' } }, { model: 'm', groupKey: 'gk' }).scopeKey).toBe('gk');
  });

  it('no groupKey for a group query → UNAUTHORIZED naming session.groupKey', () => {
    const error = refusal(() => toV3Filter({ scope: { group: 'g1' } }, { model: 'm', groupName: 'g1' }));
    expect(error.type).toBe('UNAUTHORIZED');
    expect(error.message).toContain('session.groupKey');
  });

  it('scope.worldId → WORLD/{worldKey}; no groupKey needed', () => {
    expect(toV3Filter({ scope: { worldId: { $eq: 'w-9' }, group: { $eq: 'g1' } } }, { model: 'm', groupName: 'g1' })).toEqual({
      scopeBoundary: 'WORLD',
      scopeKey: 'w-9',
      model: 'm',
      filter: '',
    });
  });

  it('model → the path model (literal or plain); a comparison or list is refused', () => {
    expect(toV3Filter({ model: { $eq: 'other.py' } }, CONTEXT).model).toBe('other.py');
    expect(toV3Filter({ model: 'x.py' }, CONTEXT).model).toBe('x.py');
    expect(refusal(() => toV3Filter({ model: '!=x.py' }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ model: ['a', 'b'] }, CONTEXT)).type).toBe('INVALID_OPTIONS');
  });

  it('custom scope keys have no v3 equivalent → INVALID_OPTIONS naming them', () => {
    const error = refusal(() => toV3Filter({ scope: { region: 'eu' } }, CONTEXT));
    expect(error.type).toBe('INVALID_OPTIONS');
    expect(error.message).toContain('scope.region');
  });
});

describe('toV3Filter: conditions', () => {
  it('renames the v2 fields the strategies use', () => {
    const filter = toV3Filter(
      {
        scope: { group: literal('g1'), trackingKey: literal('week-1') },
        trashed: false,
        saved: true,
        'user.id': literal('u-1'),
        isInitComplete: true,
      },
      CONTEXT,
    ).filter;
    expect(filter).toBe('run.trackingKey=week-1;run.hidden=false;run.marked=true;run.userKey=u-1;meta.isInitComplete=true');
  });

  it('nested objects flatten: user.id and a nested init flag', () => {
    expect(toV3Filter({ user: { id: { $eq: 'u' } }, flag: { level: 2 } }, CONTEXT).filter).toBe('run.userKey=u;meta.flag.level=2');
  });

  it('run.*, var.*, meta.* pass through; .x is a variable; v3 run field names are run fields', () => {
    expect(toV3Filter({ 'run.closed': false, 'var.score': '>=10', 'meta.level': 'hard', '.price': '<5' }, CONTEXT).filter).toBe(
      'run.closed=false;var.score>=10;meta.level=hard;var.price<5',
    );
    expect(toV3Filter({ hidden: false, marked: true, closed: false, trackingKey: literal('k') }, CONTEXT).filter).toBe(
      'run.hidden=false;run.marked=true;run.closed=false;run.trackingKey=k',
    );
  });

  it('plain strings keep a v2 operator prefix; a literal is always equality', () => {
    expect(toV3Filter({ 'var.a': '<=3', 'var.b': '>4', 'var.c': '!=x', 'var.d': '<1', 'var.e': '>=2' }, CONTEXT).filter).toBe(
      'var.a<=3;var.b>4;var.c!=x;var.d<1;var.e>=2',
    );
    expect(toV3Filter({ 'var.n': 5, 'var.f': 1.5, 'var.t': true }, CONTEXT).filter).toBe('var.n=5;var.f=1.5;var.t=true');
  });

  it('an array is "any of" with equality values', () => {
    expect(toV3Filter({ 'meta.level': ['easy', { $eq: 'hard' }, 3] }, CONTEXT).filter).toBe('meta.level|=easy|hard|3');
    expect(refusal(() => toV3Filter({ 'meta.level': [] }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ 'meta.level': ['<3'] }, CONTEXT)).type).toBe('INVALID_OPTIONS');
  });

  it('undefined is skipped; null is refused (no v3 null literal)', () => {
    expect(toV3Filter({ trashed: undefined, scope: { worldId: undefined } }, CONTEXT)).toMatchObject({
      scopeBoundary: 'GROUP',
      filter: '',
    });
    const error = refusal(() => toV3Filter({ isInitComplete: null }, CONTEXT));
    expect(error.type).toBe('INVALID_OPTIONS');
    expect(error.message).toContain('null');
  });

  it.each([';', '(', ')', '[', ']', '{', '}', '|'])('a literal holding %s is refused, never a wider query', (character) => {
    for (const filter of [
      { 'user.id': literal(`u${character}x`) },
      { 'user.id': { $eq: `u${character}x` } },
      { scope: { trackingKey: { $eq: `k${character}` } } },
      { scope: { worldId: { $eq: `w${character}` } } },
      { scope: { group: { $eq: `g1${character}` } } },
      { 'meta.x': `plain${character}` },
    ]) {
      const error = refusal(() => toV3Filter(filter, { model: 'm', groupKey: 'gk' }));
      expect(error.type).toBe('INVALID_OPTIONS');
    }
  });

  it.each(['=', '!', '<', '>', '*', '~', '^', '|'])('a literal starting with %s is refused', (operator) => {
    expect(refusal(() => toV3Filter({ 'user.id': { $eq: `${operator}u` } }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ 'user.id': literal(`${operator}=u`) }, CONTEXT)).type).toBe('INVALID_OPTIONS');
  });

  it('an operator value whose rest starts with an operator, or a plain value starting with one, is refused', () => {
    expect(refusal(() => toV3Filter({ 'var.x': '<=<5' }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ 'var.x': '~=a*' }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ 'var.x': '!x' }, CONTEXT)).type).toBe('INVALID_OPTIONS');
  });

  it('keys holding filter grammar are refused; other characters in values are kept as text', () => {
    expect(refusal(() => toV3Filter({ 'meta.a=b': 1 }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ 'a;b': 1 }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(toV3Filter({ 'user.id': { $eq: 'a b&c=d/é' } }, CONTEXT).filter).toBe('run.userKey=a b&c=d/é');
  });

  it('a filter that is not an object, an empty value, NaN → INVALID_OPTIONS', () => {
    expect(refusal(() => toV3Filter('x' as never, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ 'var.x': '' }, CONTEXT)).type).toBe('INVALID_OPTIONS');
    expect(refusal(() => toV3Filter({ 'var.x': Number.NaN }, CONTEXT)).type).toBe('INVALID_OPTIONS');
  });

  it('v3FieldOf: the translation of one key', () => {
    expect(v3FieldOf('created')).toBe('run.created');
    expect(v3FieldOf('isInitComplete')).toBe('meta.isInitComplete');
    expect(v3FieldOf('user.id')).toBe('run.userKey');
  });
});

describe('toV3QueryParams', () => {
  it('newest-run modifiers in both spellings → sort=-run.created, first 0, max 1', () => {
    expect(toV3QueryParams({ startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' })).toEqual({
      sort: '-run.created',
      first: 0,
      max: 1,
    });
    expect(toV3QueryParams({ startRecord: 5, endRecord: 14, sort: 'created', direction: 'asc' })).toEqual({
      sort: '+run.created',
      first: 5,
      max: 10,
    });
  });

  it('include → var names in order (array or comma string); v3 first/max/meta and signed sorts as given', () => {
    expect(toV3QueryParams({ include: ['b', 'a'] })).toEqual({ var: ['b', 'a'] });
    expect(toV3QueryParams({ include: 'x,y' })).toEqual({ var: ['x', 'y'] });
    expect(toV3QueryParams({ first: 2, max: 3, meta: ['level'], sort: '-run.lastModified' })).toEqual({
      first: 2,
      max: 3,
      meta: ['level'],
      sort: '-run.lastModified',
    });
    expect(toV3QueryParams({ sort: 'isInitComplete' })).toEqual({ sort: 'meta.isInitComplete' });
    expect(toV3QueryParams(undefined)).toEqual({});
  });

  it('refuses what v3 cannot express', () => {
    for (const modifiers of [
      { unknown: 1 },
      { startRecord: 3, endRecord: 1 },
      { startRecord: -1 },
      { direction: 'up', sort: 'created' },
      { include: ['a;b'] },
      { first: 0, startRecord: 0 },
    ]) {
      expect(refusal(() => toV3QueryParams(modifiers as never)).type).toBe('INVALID_OPTIONS');
    }
  });
});

describe('v3QueryString', () => {
  it('URLSearchParams rules: arrays repeat, undefined/null skipped, text encoded', () => {
    expect(v3QueryString({ runKey: ['a', 'b'], skip: undefined, none: null, filter: 'run.hidden=false;meta.x=a b', mine: true })).toBe(
      'runKey=a&runKey=b&filter=run.hidden%3Dfalse%3Bmeta.x%3Da+b&mine=true',
    );
  });
});
