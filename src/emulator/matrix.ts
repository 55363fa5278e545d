/** The matrix filter of run queries: `;key{op}value;…` parsed into conditions and compiled into a predicate. */
import type { Run } from '../types.js';
import { HttpError } from './http.js';
import { getPath, splitKey } from './record-paths.js';

export type MatrixOperator = '<=' | '>=' | '!=' | '<' | '>' | '=';

/** One parsed, percent-decoded matrix condition. */
export interface MatrixCondition {
  key: string;
  operator: MatrixOperator;
  value: string;
}

/** Percent-decodes one component; a malformed escape (`%zz`, a lone `%`) is 400. */
export function decodeComponent(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in "${raw.slice(0, 200)}"`);
  }
}

/**
 * The operator at `index`, with its raw length. `<` and `>` also count as `%3C`/`%3E`: browsers
 * encode them in paths, so `;a<1` arrives as `;a%3C1`. Operands encode their own, so the first found wins.
 */
function operatorAt(part: string, index: number): { operator: MatrixOperator; length: number } | undefined {
  const char = part[index];
  let angle: '<' | '>' | undefined;
  let length = 1;
  if (char === '<' || char === '>') {
    angle = char;
  } else if (char === '%') {
    const code = part.slice(index + 1, index + 3).toUpperCase();
    if (code === '3C') angle = '<';
    else if (code === '3E') angle = '>';
    length = 3;
  } else if (char === '!' && part[index + 1] === '=') {
    return { operator: '!=', length: 2 };
  } else if (char === '=') {
    return { operator: '=', length: 1 };
  }
  if (angle === undefined) return undefined;
  if (part[index + length] === '=') return { operator: `${angle}=`, length: length + 1 };
  return { operator: angle, length };
}

function parseCondition(part: string): MatrixCondition {
  for (let index = 0; index < part.length; index += 1) {
    const found = operatorAt(part, index);
    if (found === undefined) continue;
    const key = decodeComponent(part.slice(0, index));
    if (key === '') throw new HttpError(400, `matrix condition "${part.slice(0, 200)}" has no key`);
    return { key, operator: found.operator, value: decodeComponent(part.slice(index + found.length)) };
  }
  throw new HttpError(400, `matrix condition "${part.slice(0, 200)}" has no operator`);
}

/**
 * Splits a raw matrix segment on `;`, each part at its first (longest) operator, and only then
 * percent-decodes key and value, so an encoded `%3B` or `%3D` stays inside its value.
 */
export function parseMatrix(raw: string): MatrixCondition[] {
  const conditions: MatrixCondition[] = [];
  for (const part of raw.split(';')) {
    if (part !== '') conditions.push(parseCondition(part));
  }
  return conditions;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** `null` matches null or absent, `true`/`false` the booleans; otherwise the scalar's string form must equal the operand. */
export function matrixEquals(value: unknown, operand: string): boolean {
  if (operand === 'null') return value === null || value === undefined;
  if (operand === 'true' && value === true) return true;
  if (operand === 'false' && value === false) return true;
  return isScalar(value) && String(value) === operand;
}

function toNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** Sign of `value - operand`: numeric when both are numbers, else string order; null when incomparable. */
function order(value: unknown, operand: string): number | null {
  if (value === null || value === undefined) return null;
  const operandNumber = toNumber(operand);
  if (Number.isFinite(operandNumber)) {
    const valueNumber = typeof value === 'number' ? value : typeof value === 'string' ? toNumber(value) : Number.NaN;
    if (Number.isFinite(valueNumber)) return Math.sign(valueNumber - operandNumber);
  }
  if (typeof value === 'string') return value < operand ? -1 : value > operand ? 1 : 0;
  return null;
}

type Predicate = (run: Run) => boolean;

function comparison(segments: string[], operator: MatrixOperator, operand: string): Predicate {
  switch (operator) {
    case '!=':
      return (run) => !matrixEquals(getPath(run, segments), operand);
    case '=':
      return (run) => matrixEquals(getPath(run, segments), operand);
    default: {
      const test = { '<': (s: number) => s < 0, '>': (s: number) => s > 0, '<=': (s: number) => s <= 0, '>=': (s: number) => s >= 0 }[
        operator
      ];
      return (run) => {
        const sign = order(getPath(run, segments), operand);
        return sign !== null && test(sign);
      };
    }
  }
}

/** A compiled filter; `userIds` lists the `user.id=` operands, so the store can use its per-user index instead of scanning. */
export interface CompiledFilter {
  matches: Predicate;
  userIds: Array<string | null> | null;
}

/** Several `=` on the same key are OR-ed, everything else AND-ed. */
export function compileFilter(conditions: readonly MatrixCondition[]): CompiledFilter {
  const equalities = new Map<string, { segments: string[]; operands: string[] }>();
  const predicates: Predicate[] = [];
  for (const condition of conditions) {
    const segments = splitKey(condition.key);
    if (condition.operator === '=') {
      const path = segments.join('.');
      const group = equalities.get(path) ?? { segments, operands: [] };
      group.operands.push(condition.value);
      equalities.set(path, group);
    } else {
      predicates.push(comparison(segments, condition.operator, condition.value));
    }
  }
  for (const { segments, operands } of equalities.values()) {
    const first = operands[0] as string;
    predicates.push(
      operands.length === 1
        ? comparison(segments, '=', first)
        : (run) => {
            const value = getPath(run, segments);
            return operands.some((operand) => matrixEquals(value, operand));
          },
    );
  }
  const userGroup = equalities.get('user.id');
  return {
    matches: (run) => predicates.every((predicate) => predicate(run)),
    userIds: userGroup ? userGroup.operands.map((operand) => (operand === 'null' ? null : operand)) : null,
  };
}
