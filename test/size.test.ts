/**
 * The bundle-size guard (bytes, not time): every bundle of bench/size.ts within its budget in
 * bench/size-budget.json, none pulling in a Node built-in or the emulator — and the core entry
 * really leaving the registry and the other strategies out.
 */
import { describe, expect, it } from 'vitest';
import { measureSizes, sizeReport } from '../bench/size.js';

describe('bundle size', () => {
  it('stays within the budgets, with no Node built-in and no emulator code in a browser bundle', async () => {
    const sizes = await measureSizes();
    const { overBudget } = sizeReport(sizes);
    expect(overBudget).toEqual([]);
    const byName = Object.fromEntries(sizes.map((size) => [size.name, size]));
    // The core entry with one strategy carries no registry and no other strategy.
    const coreInputs = byName.coreOneStrategy!.topInputs.map((input) => input.input);
    expect(
      coreInputs.filter((input) => /registry|reuse-across|tracking-key|multiplayer|last-initialized|conditional|legacy/.test(input)),
    ).toEqual([]);
    // Nor the Epicenter v3 clients: those come with run-lifecycle/v3 (or the root entry).
    expect(coreInputs.filter((input) => /-v3\.ts$|services\/v3\.ts$/.test(input))).toEqual([]);
    expect(byName.coreOneStrategy!.gzipBytes).toBeLessThan(byName.library!.gzipBytes);
  }, 60_000);
});
