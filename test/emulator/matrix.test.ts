import { describe, expect, it } from 'vitest';
import { compileFilter, matrixEquals, parseMatrix } from '../../src/emulator/matrix.js';
import type { Run } from '../../src/types.js';

describe('parseMatrix', () => {
  it('parses back every example of the matrix grammar', () => {
    expect(parseMatrix(';saved=true;.price=1')).toEqual([
      { key: 'saved', operator: '=', value: 'true' },
      { key: '.price', operator: '=', value: '1' },
    ]);
    expect(parseMatrix(';scope.trackingKey=foo;saved=true;id=1;id=2')).toEqual([
      { key: 'scope.trackingKey', operator: '=', value: 'foo' },
      { key: 'saved', operator: '=', value: 'true' },
      { key: 'id', operator: '=', value: '1' },
      { key: 'id', operator: '=', value: '2' },
    ]);
    expect(parseMatrix(';a<1;b>1;c!=1;d>=1;e<=1')).toEqual([
      { key: 'a', operator: '<', value: '1' },
      { key: 'b', operator: '>', value: '1' },
      { key: 'c', operator: '!=', value: '1' },
      { key: 'd', operator: '>=', value: '1' },
      { key: 'e', operator: '<=', value: '1' },
    ]);
    expect(parseMatrix(';')).toEqual([]);
    expect(parseMatrix(';saved=true;id=1;id=2;scope.trackingKey=foo')).toHaveLength(4);
  });

  it('drops empty parts and keeps the literal null/undefined operands', () => {
    expect(parseMatrix(';;c=null;;d=undefined;')).toEqual([
      { key: 'c', operator: '=', value: 'null' },
      { key: 'd', operator: '=', value: 'undefined' },
    ]);
  });

  it('splits before decoding, so encoded ; and = stay inside the value', () => {
    expect(parseMatrix(';scope.trackingKey=x%3Buser.id%3Du2')).toEqual([
      { key: 'scope.trackingKey', operator: '=', value: 'x;user.id=u2' },
    ]);
    expect(parseMatrix(';a%20b=%21x')).toEqual([{ key: 'a b', operator: '=', value: '!x' }]);
  });

  it('reads <, > encoded by fetch/browsers (%3C, %3E) as operators', () => {
    expect(parseMatrix(';a%3C1;b%3e1;d%3E=1;e%3C=1')).toEqual([
      { key: 'a', operator: '<', value: '1' },
      { key: 'b', operator: '>', value: '1' },
      { key: 'd', operator: '>=', value: '1' },
      { key: 'e', operator: '<=', value: '1' },
    ]);
    expect(parseMatrix(';k=x%3Cy')).toEqual([{ key: 'k', operator: '=', value: 'x<y' }]);
  });

  it('refuses conditions without operator or key, and bad escapes, with 400', () => {
    for (const bad of [';foo', ';=1', ';a=%zz', ';%=1', ';a=%']) {
      expect(() => parseMatrix(bad), bad).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});

describe('compileFilter', () => {
  const run = (fields: Partial<Run>): Run => ({ id: 'r', ...fields });

  it('ORs repeated = keys and ANDs everything else', () => {
    const { matches } = compileFilter(parseMatrix(';id=1;id=2;saved=true'));
    expect(matches(run({ id: '1', saved: true }))).toBe(true);
    expect(matches(run({ id: '2', saved: true }))).toBe(true);
    expect(matches(run({ id: '3', saved: true }))).toBe(false);
    expect(matches(run({ id: '1', saved: false }))).toBe(false);
  });

  it('compares booleans, null/absent, numbers and strings as the Run API does', () => {
    expect(matrixEquals(true, 'true')).toBe(true);
    expect(matrixEquals(false, 'true')).toBe(false);
    expect(matrixEquals(undefined, 'null')).toBe(true);
    expect(matrixEquals(null, 'null')).toBe(true);
    expect(matrixEquals(0, 'null')).toBe(false);
    expect(matrixEquals(10, '10')).toBe(true);
    expect(matrixEquals({ a: 1 }, '[object Object]')).toBe(false);
    const numeric = compileFilter(parseMatrix(';.price>9;.price<=10'));
    expect(numeric.matches(run({ variables: { price: 10 } }))).toBe(true);
    expect(numeric.matches(run({ variables: { price: 9 } }))).toBe(false);
    expect(numeric.matches(run({ variables: { price: '10' } }))).toBe(true);
    expect(numeric.matches(run({ variables: null }))).toBe(false);
    const dates = compileFilter(parseMatrix(';created>=2024-01-01'));
    expect(dates.matches(run({ created: '2024-06-01T00:00:00.000Z' }))).toBe(true);
    expect(dates.matches(run({ created: '2023-06-01T00:00:00.000Z' }))).toBe(false);
    const notTrashed = compileFilter(parseMatrix(';trashed!=true'));
    expect(notTrashed.matches(run({}))).toBe(true);
    expect(notTrashed.matches(run({ trashed: true }))).toBe(false);
  });

  it('maps a leading dot to variables and exposes user.id operands for the index', () => {
    expect(compileFilter(parseMatrix(';.price=1')).matches(run({ variables: { price: 1 } }))).toBe(true);
    expect(compileFilter(parseMatrix(';user.id=u1;user.id=null')).userIds).toEqual(['u1', null]);
    expect(compileFilter(parseMatrix(';user.id!=u1')).userIds).toBeNull();
  });

  it('refuses prototype paths', () => {
    expect(() => compileFilter(parseMatrix(';__proto__.x=1'))).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => compileFilter(parseMatrix(';a..b=1'))).toThrow(expect.objectContaining({ status: 400 }));
  });
});
