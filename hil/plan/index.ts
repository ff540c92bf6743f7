/** Test plans: `defineTestPlan()`, loading plan files, checking a plan against its device, the shipped plans. */
export { defineTestPlan, TestPlan, type PhasePlan } from './define-test-plan.js';
export { loadTestPlan, PlanFileError, MAX_PLAN_FILE_BYTES, type LoadedPlan } from './load-test-plan.js';
export { checkPlan, type TargetFacts } from './check-plan.js';
export { shippedPlans, type ShippedPlan } from './shipped-plans.js';
export type * from './spec.js';
export { METHOD_KINDS } from './method-spec.js';
export type * from './method-spec.js';
export { planFromModel, planFromDevice, testPoints, channelMemory, type PlanFromModelOptions } from './plan-from-model.js';
