import { describe, expect, it } from 'vitest';
import { RunManagerError } from '../../src/errors.js';
import { normalizeOperations } from '../../src/services/operations.js';
import type { Operations } from '../../src/types.js';

describe('normalizeOperations', () => {
  it("'solve' → solve()", () => {
    expect(normalizeOperations('solve')).toEqual([{ name: 'solve', args: [] }]);
  });

  it("('echo', 'hello') wraps a non-array argument", () => {
    expect(normalizeOperations('echo', 'hello')).toEqual([{ name: 'echo', args: ['hello'] }]);
    expect(normalizeOperations('flag', false)).toEqual([{ name: 'flag', args: [false] }]);
    expect(normalizeOperations('nothing', null)).toEqual([{ name: 'nothing', args: [null] }]);
  });

  it("('sumArray', [[4, 2, 1]]) passes one array argument", () => {
    expect(normalizeOperations('sumArray', [[4, 2, 1]])).toEqual([{ name: 'sumArray', args: [[4, 2, 1]] }]);
  });

  it('{ name, params }', () => {
    expect(normalizeOperations({ name: 'add', params: [2, 4] })).toEqual([{ name: 'add', args: [2, 4] }]);
    expect(normalizeOperations({ name: 'init' })).toEqual([{ name: 'init', args: [] }]);
  });

  it('{ name, params } with a non-array param wraps it', () => {
    expect(normalizeOperations({ name: 'step', params: 10 })).toEqual([{ name: 'step', args: [10] }]);
  });

  it('{ add: [1, 2], subtract: [2, 4] } → one call per key, in order', () => {
    expect(normalizeOperations({ add: [1, 2], subtract: [2, 4] })).toEqual([
      { name: 'add', args: [1, 2] },
      { name: 'subtract', args: [2, 4] },
    ]);
  });

  it('a non-array value in the key form is wrapped; undefined means no arguments', () => {
    expect(normalizeOperations({ step: 10, reset: undefined })).toEqual([
      { name: 'step', args: [10] },
      { name: 'reset', args: [] },
    ]);
  });

  it('arrays mix names and both object forms', () => {
    expect(normalizeOperations([{ step: [10] }])).toEqual([{ name: 'step', args: [10] }]);
    expect(normalizeOperations(['init', { step: [10] }])).toEqual([
      { name: 'init', args: [] },
      { name: 'step', args: [10] },
    ]);
    expect(normalizeOperations(['a', { name: 'b', params: [1] }, { c: [2], d: 3 }])).toEqual([
      { name: 'a', args: [] },
      { name: 'b', args: [1] },
      { name: 'c', args: [2] },
      { name: 'd', args: [3] },
    ]);
  });

  it('copies argument arrays (later changes to the input do not leak)', () => {
    const params = [1, 2];
    const [call] = normalizeOperations({ name: 'add', params });
    params.push(3);
    expect(call?.args).toEqual([1, 2]);
  });

  describe('malformed input throws INVALID_OPTIONS naming the problem', () => {
    const cases: Array<[string, unknown, unknown, RegExp]> = [
      ['an empty string', '', undefined, /name is empty/],
      ['a blank string', '   ', undefined, /name is empty/],
      ['an empty array', [], undefined, /list of operations is empty/],
      ['a number', 42, undefined, /got a number/],
      ['null', null, undefined, /got null/],
      ['undefined', undefined, undefined, /got undefined/],
      ['an object with a non-string name', { name: 5, params: [] }, undefined, /name must be a string, got a number/],
      ['an object with an empty name', { name: '' }, undefined, /name is empty/],
      ['an object with stray keys next to name', { name: 'add', param: [1] }, undefined, /unexpected key\(s\) 'param'/],
      ['an empty object', {}, undefined, /names no operation/],
      ['nested arrays at top level', [['init']], undefined, /operation 0: expected an operation name or object, got an array/],
      ['a number inside the list', ['init', 7], undefined, /operation 1: .*got a number/],
      ['null inside the list', ['init', null], undefined, /operation 1: .*got null/],
      ['an empty name inside the list', ['init', ''], undefined, /operation 1: the operation name is empty/],
      ['arguments with a list', ['init'], [1], /arguments can only be given together with a single operation name/],
    ];
    it.each(cases)('%s', (_label, operations, args, message) => {
      let thrown: unknown;
      try {
        normalizeOperations(operations as Operations, args);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(RunManagerError);
      expect((thrown as RunManagerError).type).toBe('INVALID_OPTIONS');
      expect((thrown as RunManagerError).message).toMatch(message);
    });
  });
});
