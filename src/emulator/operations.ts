/** Model operations (`POST …/{id}/operations/{name}/`): the built-ins and the registry; unknown names answer `result: null`. */
import type { Run } from '../types.js';
import { ensureVariables } from './patch.js';
import type { OperationContext, OperationHandler } from './types.js';

function finiteNumber(value: unknown, what: string): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) throw new TypeError(`${what} must be a finite number`);
  return number;
}

/**
 * The built-in operations: `echo(x)`, `add(a, b)`, `step(n = 1)` advances `variables.step`,
 * `init()` sets `variables.initialized`, `fail(message?)` throws (500).
 */
export const builtinOperations: Readonly<Record<string, OperationHandler>> = {
  echo: ({ args }) => args[0] ?? null,
  add: ({ args }) => finiteNumber(args[0], 'add: a') + finiteNumber(args[1], 'add: b'),
  step: ({ args, variables }) => {
    const by = args[0] === undefined ? 1 : finiteNumber(args[0], 'step: n');
    const current = typeof variables.step === 'number' ? variables.step : 0;
    variables.step = current + by;
    return variables.step;
  },
  init: ({ variables }) => {
    variables.initialized = true;
    return true;
  },
  fail: ({ args }) => {
    throw new Error(typeof args[0] === 'string' && args[0] !== '' ? args[0] : 'operation failed');
  },
};

/** Operation handlers by name: the built-ins, overridden or extended by registered ones. */
export class OperationRegistry {
  private readonly handlers = new Map<string, OperationHandler>(Object.entries(builtinOperations));

  constructor(extra: Record<string, OperationHandler> = {}) {
    for (const [name, handler] of Object.entries(extra)) this.register(name, handler);
  }

  register(name: string, handler: OperationHandler): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('an operation needs a non-empty name');
    if (typeof handler !== 'function') throw new TypeError(`the handler of operation ${name} must be a function`);
    this.handlers.set(name, handler);
  }

  /** Null for unknown names; the handler's throw or rejection propagates. */
  async invoke(name: string, run: Run, args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(name);
    if (!handler) return null;
    const context: OperationContext = {
      name,
      run,
      args,
      get variables() {
        return ensureVariables(run);
      },
    };
    const result = await handler(context);
    return result === undefined ? null : result;
  }
}
