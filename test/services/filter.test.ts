import { describe, expect, it } from 'vitest';
import { flattenScope, mergeFilters, parseContentRange, toMatrix, toQueryString } from '../../src/services/filter.js';
import type { RunFilter } from '../../src/types.js';

describe('toMatrix', () => {
  it.each<[RunFilter, string]>([
    [{ saved: true, '.price': '1' }, ';saved=true;.price=1'],
    [{ scope: { trackingKey: 'foo' }, saved: true, id: [1, 2] }, ';scope.trackingKey=foo;saved=true;id=1;id=2'],
    [{ a: '<1', b: '>1', c: '!=1', d: '>=1', e: '<=1' }, ';a<1;b>1;c!=1;d>=1;e<=1'],
    [{}, ';'],
  ])('verified example %j → %s', (filter, matrix) => {
    expect(toMatrix(filter)).toBe(matrix);
  });

  it.each<[RunFilter, string]>([
    [{ scope: { group: 'g1' }, 'user.id': 'u1' }, ';scope.group=g1;user.id=u1'],
    [
      { trashed: false, isInitComplete: true, scope: { group: 'g1' }, 'user.id': 'u1', model: 'model.py' },
      ';trashed=false;isInitComplete=true;scope.group=g1;user.id=u1;model=model.py',
    ],
    [
      { scope: { trackingKey: 'tk1', group: 'g1' }, trashed: false, 'user.id': 'u1' },
      ';scope.trackingKey=tk1;scope.group=g1;trashed=false;user.id=u1',
    ],
    [
      { scope: { trackingKey: 'tkm', worldId: 'w2', group: 'g1' }, trashed: false },
      ';scope.trackingKey=tkm;scope.worldId=w2;scope.group=g1;trashed=false',
    ],
  ])('strategy filter %j → %s', (filter, matrix) => {
    expect(toMatrix(filter)).toBe(matrix);
  });

  it('null is the literal null; undefined values are skipped (the original wrote d=undefined)', () => {
    expect(toMatrix({ c: null, d: undefined })).toBe(';c=null');
    expect(toMatrix({ a: undefined })).toBe(';');
    expect(toMatrix({ scope: { group: undefined, trackingKey: 'k' } })).toBe(';scope.trackingKey=k');
  });

  it('numbers and booleans are stringified; empty arrays and objects add nothing', () => {
    expect(toMatrix({ n: 0, m: -1.5, t: true, f: false, e: [], o: {} })).toBe(';n=0;m=-1.5;t=true;f=false');
  });

  it('arrays inside nested objects repeat the dotted key', () => {
    expect(toMatrix({ scope: { group: ['g1', 'g2'] } })).toBe(';scope.group=g1;scope.group=g2');
  });

  describe('hostile values are percent-encoded and cannot add conditions', () => {
    it('a tracking key "x;user.id=u2" stays one condition', () => {
      expect(toMatrix({ scope: { trackingKey: 'x;user.id=u2' } })).toBe(';scope.trackingKey=x%3Buser.id%3Du2');
    });
    it('"/", "?", "#", "&" in a value are encoded', () => {
      expect(toMatrix({ name: 'a/b?c#d&e' })).toBe(';name=a%2Fb%3Fc%23d%26e');
    });
    it('a value "!x" is a plain value, not an operator (the original read it as one)', () => {
      expect(toMatrix({ name: '!x' })).toBe(';name=%21x');
      expect(toMatrix({ name: '!' })).toBe(';name=%21');
    });
    it('only the operator prefix is literal; its operand is encoded', () => {
      expect(toMatrix({ a: '<1;b=2', c: '!=x/y', d: '>=' })).toBe(';a<1%3Bb%3D2;c!=x%2Fy;d>=');
    });
    it('a value that merely contains an operator is a plain value', () => {
      expect(toMatrix({ a: '1<2', b: '=3', c: 'x!=y' })).toBe(';a=1%3C2;b=%3D3;c=x%21%3Dy');
    });
    it('unicode and spaces are UTF-8 percent-encoded', () => {
      expect(toMatrix({ city: 'Zürich Süd', emoji: '🚀' })).toBe(';city=Z%C3%BCrich%20S%C3%BCd;emoji=%F0%9F%9A%80');
    });
    it('hostile keys are encoded too, keeping the dots of dotted paths', () => {
      expect(toMatrix({ 'a;b=c': 1, 'x y': { 'z/w': 2 }, '.price': '<3' })).toBe(';a%3Bb%3Dc=1;x%20y.z%2Fw=2;.price<3');
    });
  });
});

describe('toQueryString', () => {
  it.each<[Record<string, unknown> | string, string]>([
    [{ include: ['price', 'sales'] }, 'include=price,sales'],
    [{ set: ['a', 'b'], include: 'price' }, 'set=a,b&include=price'],
    ['v1', 'v1'],
    [{ startrecord: 0, endrecord: 0, sort: 'created', direction: 'desc' }, 'startrecord=0&endrecord=0&sort=created&direction=desc'],
    [{ startRecord: 0, endRecord: 0, sort: 'created', direction: 'desc' }, 'startRecord=0&endRecord=0&sort=created&direction=desc'],
  ])('verified example %j → %s', (params, query) => {
    expect(toQueryString(params)).toBe(query);
  });

  it('skips undefined values and array elements; empty input gives an empty string', () => {
    expect(toQueryString({ a: undefined, b: 1, c: ['x', undefined, 'y'] })).toBe('b=1&c=x,y');
    expect(toQueryString({})).toBe('');
    expect(toQueryString(undefined)).toBe('');
  });

  it('JSON-stringifies plain objects, then encodes them', () => {
    expect(toQueryString({ f: { a: 1 } })).toBe(`f=${encodeURIComponent('{"a":1}')}`);
  });

  it('encodes each array element but keeps the commas literal', () => {
    expect(toQueryString({ include: ['a,b', 'c&d=e', 'ü'] })).toBe('include=a%2Cb,c%26d%3De,%C3%BC');
  });

  it('encodes keys and values so "&", "=", "#" cannot add parameters', () => {
    expect(toQueryString({ 'k&x=1': 'v#w&admin=true', space: 'a b' })).toBe('k%26x%3D1=v%23w%26admin%3Dtrue&space=a%20b');
  });

  it('null is the literal null', () => {
    expect(toQueryString({ a: null })).toBe('a=null');
  });
});

describe('parseContentRange', () => {
  it.each<[string | null | undefined, ReturnType<typeof parseContentRange>]>([
    ['records 0-0/12', { start: 0, end: 0, total: 12 }],
    ['0-0/100', { start: 0, end: 0, total: 100 }],
    ['records 10-19/250', { start: 10, end: 19, total: 250 }],
    ['Records 0-0/0', { start: 0, end: 0, total: 0 }],
    ['  records 0-4/5 ', { start: 0, end: 4, total: 5 }],
    ['records */12', { start: 0, end: -1, total: 12 }],
    ['*/0', { start: 0, end: -1, total: 0 }],
    [null, null],
    [undefined, null],
    ['', null],
    ['records', null],
    ['records 0-0/*', null],
    ['records 5-3/10', null],
    ['bytes 0-0/12', null],
    ['records 0-0/12abc', null],
    ['records -1-0/12', null],
    ['records 0-0/99999999999999999999', null],
  ])('%j → %j', (header, expected) => {
    expect(parseContentRange(header)).toEqual(expected);
  });
});

describe('flattenScope', () => {
  it('flattens a top-level scope object into dotted keys, in place of scope', () => {
    expect(flattenScope({ completed: true, scope: { trackingKey: 'foo' } })).toEqual({
      completed: true,
      'scope.trackingKey': 'foo',
    });
    expect(Object.keys(flattenScope({ a: 1, scope: { group: 'g', worldId: 'w' }, b: 2 }))).toEqual([
      'a',
      'scope.group',
      'scope.worldId',
      'b',
    ]);
  });

  it('leaves other keys, null scope and non-scope objects alone', () => {
    expect(flattenScope({ scope: null, variables: { price: 1 } })).toEqual({ scope: null, variables: { price: 1 } });
    expect(flattenScope({ isInitComplete: true })).toEqual({ isInitComplete: true });
  });
});

describe('mergeFilters', () => {
  it('keys the object inherits become own values, and an inherited setter is never called', () => {
    const calls: unknown[] = [];
    Object.defineProperty(Object.prototype, 'planted', {
      configurable: true,
      set(value) {
        calls.push(value);
      },
      get() {
        return undefined;
      },
    });
    try {
      const merged = mergeFilters({ toString: 'x', planted: 'y', 'user.id': 'u1' }, { planted: 'z' });
      expect(Object.hasOwn(merged, 'toString') && Object.hasOwn(merged, 'planted')).toBe(true);
      expect({ toString: merged.toString, planted: merged.planted, user: merged['user.id'] }).toEqual({
        toString: 'x',
        planted: 'z',
        user: 'u1',
      });
      expect(calls).toEqual([]);
    } finally {
      delete (Object.prototype as { planted?: unknown }).planted;
    }
  });

  it('deep-merges nested objects; later leaves win; key order of first appearance', () => {
    const merged = mergeFilters(
      { scope: { group: 'g0', custom: 'c' }, trashed: true },
      { scope: { group: 'g1', trackingKey: 'tk' }, trashed: false },
    );
    expect(merged).toEqual({ scope: { group: 'g1', custom: 'c', trackingKey: 'tk' }, trashed: false });
    expect(toMatrix(merged)).toBe(';scope.group=g1;scope.custom=c;scope.trackingKey=tk;trashed=false');
  });

  it('arrays replace, scalars replace objects and objects replace scalars', () => {
    expect(mergeFilters({ id: [1, 2], a: { x: 1 }, b: 1 }, { id: [3], a: 'flat', b: { y: 2 } })).toEqual({
      id: [3],
      a: 'flat',
      b: { y: 2 },
    });
  });

  it('ignores undefined values and missing filters', () => {
    expect(mergeFilters({ scope: { group: 'g1' } }, undefined, null, { scope: { group: undefined } })).toEqual({ scope: { group: 'g1' } });
  });

  it('does not change its inputs', () => {
    const a: RunFilter = { scope: { group: 'g1' }, id: [1] };
    const b: RunFilter = { scope: { trackingKey: 'tk' } };
    const merged = mergeFilters(a, b);
    (merged.id as number[]).push(2);
    expect(a).toEqual({ scope: { group: 'g1' }, id: [1] });
    expect(b).toEqual({ scope: { trackingKey: 'tk' } });
  });

  it('a configured scope is appended (and merged, not replaced)', () => {
    expect(toMatrix(mergeFilters({ saved: true, id: [1, 2] }, { scope: { trackingKey: 'foo' } }))).toBe(
      ';saved=true;id=1;id=2;scope.trackingKey=foo',
    );
  });
});
