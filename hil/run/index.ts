/** Running a plan on a target. */
export type * from './run-options.js';
export { runTestPlan } from './run-plan.js';
export { judge, resolveLimits, SIMPLE_ACCEPTANCE } from './judge.js';
export { worstOutcome } from './phase-runner.js';
export { usable } from './sample-feed.js';
export { runMethod, methodWaits, type MethodWaits } from './methods.js';
// The in-process emulated target and its declared truths (`--inject`), for runs and self-validation.
export { createEmulatedTarget, parseInjection, checkInjection, INJECTION_KINDS, type EmulatedTarget, type EmulatedTargetOptions, type Injection, type InjectionKind } from '../targets/emulated.js';
