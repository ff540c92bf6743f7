/** The harness functions the `hil` verbs call, in one place. */
import { connectInstrument } from '../../../hil/instruments/index.js';
import { loadTestPlan, shippedPlans } from '../../../hil/plan/index.js';
import { runTestPlan } from '../../../hil/run/index.js';
import { checkInjection, createTarget, parseInjection } from '../../../hil/targets/index.js';

/**
 * The harness as the CLI uses it.
 *
 * @example
 * ```ts
 * harness.shippedPlans().map((p) => p.id) // ['env-node-temperature', …]
 * ```
 */
export const harness = { connectInstrument, loadTestPlan, shippedPlans, runTestPlan, createTarget, parseInjection, checkInjection };
