/**
 * `strategies.register`: what it accepts (by type and at runtime), and that a built-in name or alias
 * is never replaced without `{ replace: true }`, while a name of your own is.
 */
import { describe, expect, it } from 'vitest';
import { RunManager, RunManagerError, strategies, STRATEGY, STRATEGY_ALIASES, type StrategyLike } from 'run-lifecycle';
import { reuseNever } from 'run-lifecycle/strategies';

/** A `{ getRun, reset }` strategy; never run here. */
function legacy(): StrategyLike {
  return { getRun: () => undefined, reset: () => undefined };
}

function refusal(register: () => unknown): RunManagerError {
  try {
    register();
  } catch (error) {
    expect(error).toBeInstanceOf(RunManagerError);
    expect((error as RunManagerError).type).toBe('INVALID_OPTIONS');
    return error as RunManagerError;
  }
  throw new Error('expected register to throw');
}

describe('strategies.register: what it takes', () => {
  it('refuses a value of no strategy form, at compile time and (for JavaScript callers) at runtime', () => {
    // @ts-expect-error a number is not a strategy
    const number = refusal(() => strategies.register('registry-number', 42));
    expect(number.message).toBe(
      "strategies.register: strategy 'registry-number' must be a statechart, a strategy definition or a { getRun, reset } strategy " +
        '(an object, a factory or a class), got the number 42',
    );
    // @ts-expect-error a name is not a strategy: register takes the strategy itself
    expect(refusal(() => RunManager.strategies.register('registry-name', 'reuse-never')).message).toContain('got the string "reuse-never"');
    // @ts-expect-error null is not a strategy
    expect(refusal(() => strategies.register('registry-null', null)).message).toContain('got null');
    // An object without getRun/reset is of the object form, and says what it lacks.
    // @ts-expect-error an empty object has neither getRun nor reset
    expect(refusal(() => strategies.register('registry-empty', {})).message).toMatch(/must provide getRun\(\) and reset\(\) functions/);
    expect(strategies.byName('registry-number')).toBeUndefined();
    expect(strategies.byName('registry-name')).toBeUndefined();
  });

  it('takes a definition, a statechart, and the object, factory and class forms', () => {
    class Legacy {
      getRun() {
        return undefined;
      }
      reset() {
        return undefined;
      }
    }
    const forms: Array<[string, StrategyLike]> = [
      ['registry-definition', reuseNever],
      ['registry-statechart', reuseNever.machine],
      ['registry-object', legacy()],
      ['registry-factory', () => ({ getRun: () => undefined, reset: () => undefined })],
      ['registry-class', Legacy],
    ];
    for (const [name, strategy] of forms) {
      const definition = strategies.register(name, strategy);
      expect(definition.name).toBe(name);
      expect(strategies.byName(name)).toBe(definition);
    }
  });

  it('refuses an empty name, unknown or misspelt options and options that are not booleans', () => {
    expect(refusal(() => strategies.register('  ', legacy())).message).toBe(
      'strategies.register: name must be a non-empty string, got the string "  "',
    );
    expect(refusal(() => strategies.register('__proto__', legacy())).message).toBe("strategies.register: name cannot be '__proto__'");
    // @ts-expect-error replce is not an option
    expect(refusal(() => strategies.register('registry-typo', legacy(), { replce: true })).message).toBe(
      'strategies.register: options.replce is not an option (did you mean replace?)',
    );
    // @ts-expect-error replace is a boolean
    expect(refusal(() => strategies.register('registry-typo', legacy(), { replace: 'yes' })).message).toBe(
      'strategies.register: options.replace must be true or false, got the string "yes"',
    );
    // @ts-expect-error options are an object
    expect(refusal(() => strategies.register('registry-typo', legacy(), true)).message).toContain('options must be a plain object');
    expect(strategies.byName('registry-typo')).toBeUndefined();
  });
});

describe('strategies.register: a built-in name needs { replace: true }', () => {
  it('refuses every built-in name and alias, naming it and the way to replace it; the built-in stays', () => {
    for (const name of Object.values(STRATEGY)) {
      const before = strategies.byName(name);
      const error = refusal(() => strategies.register(name, legacy()));
      expect(error.message).toBe(
        `strategies.register: '${name}' is a built-in strategy; pass { replace: true } to replace it for every manager created afterwards, or choose another name`,
      );
      expect(strategies.byName(name)).toBe(before);
    }
    for (const [alias, target] of Object.entries(STRATEGY_ALIASES)) {
      const error = refusal(() => strategies.register(alias, legacy(), { requiresAuth: true }));
      expect(error.message).toContain(`'${alias}' is a built-in alias of '${target}'; pass { replace: true }`);
      expect(strategies.byName(alias)).toBe(strategies.byName(target));
    }
  });

  it('replaces a built-in with { replace: true }: that name only, its alias unchanged', () => {
    const original = strategies.byName('reuse-never')!;
    const replacement = strategies.register('reuse-never', legacy(), { replace: true });
    try {
      expect(strategies.byName('reuse-never')).toBe(replacement);
      expect(replacement.name).toBe('reuse-never');
      expect(strategies.byName('always-new')).toBe(original);
    } finally {
      strategies.register('reuse-never', original, { replace: true });
    }
    expect(strategies.byName('reuse-never')?.machine).toBe(original.machine);
  });

  it('replaces a name of your own when it is registered again', () => {
    const first = strategies.register('registry-custom', legacy(), { requiresAuth: true });
    expect(strategies.byName('registry-custom')).toBe(first);
    const second = strategies.register('registry-custom', legacy());
    expect(strategies.byName('registry-custom')).toBe(second);
    expect(second.requiresAuth).toBe(false);
  });
});
