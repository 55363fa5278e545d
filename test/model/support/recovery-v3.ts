/**
 * The lost-create search on Epicenter v3: the same looks as on v2 (recovery.ts), the run found
 * being the v3 client's view of it.
 */
import type { OutcomeVariant } from '../../../src/testing/index.js';
import type { Run } from '../../../src/types.js';
import { asV3Run } from './fixtures-v3.js';
import type { ModelItem } from './http-script.js';
import { findCreatedRunOutcomes } from './recovery.js';

export { createFailures } from './recovery.js';

/** findCreatedRun as a whole (see `findCreatedRunOutcomes`): the run found is the v3 view of `found`. */
export function findCreatedRunOutcomesV3(found: Run): OutcomeVariant<ModelItem>[] {
  return findCreatedRunOutcomes(found).map((variant) => (variant.output === found ? { ...variant, output: asV3Run(found) } : variant));
}
