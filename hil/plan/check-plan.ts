/**
 * The checks of a plan against its device and target, before anything runs: every channel the plan
 * names is one of the model's, every unit converts to the channel's (or the input's), every input a
 * stimulus or reference names is one the target can set, and a fault step has a target that can
 * inject faults.
 */
import { describe } from '../../sdk/core/check.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { canConvert } from '../../sdk/core/units.js';
import type { DeviceModel } from '../../sdk/model/define-device.js';
import type { PhysicalInput } from '../targets/target.js';
import type { MeasureStep, SettleStep, StepSpec } from './spec.js';
import type { TestPlan } from './define-test-plan.js';
import { QUANTITY_UNITS } from '../instruments/instrument.js';
import type { MethodStep } from './method-spec.js';
import { isMethodStep } from './validate-method.js';

/** What the target offers, when it is known. */
export interface TargetFacts {
  /** The physical inputs the target can set. */
  readonly inputs: readonly PhysicalInput[];
  /** Whether the target can inject faults (fault steps). */
  readonly faults: boolean;
}

/**
 * Every step of a plan with its path, setup and teardown included.
 *
 * @example
 * ```ts
 * for (const { step, path } of planSteps(plan)) console.log(path, step.kind) // phases[0].setup[0] stimulus …
 * ```
 */
export function* planSteps(plan: Pick<TestPlan, 'phases'>): Generator<{ step: StepSpec; path: string }> {
  for (const [p, phase] of plan.phases.entries()) {
    for (const part of ['setup', 'steps', 'teardown'] as const) {
      for (const [s, step] of (phase[part] ?? []).entries()) yield { step, path: `phases[${p}].${part}[${s}]` };
    }
  }
}

/**
 * Throws `ValidationError` (with the step's path) when the plan names a channel the model lacks, a
 * unit that does not convert to the channel's, or — given the target's facts — an input the target
 * cannot set or a fault it cannot inject.
 *
 * @example
 * ```ts
 * checkPlan(plan, model)                                      // channels and units
 * checkPlan(plan, target.model, { inputs: target.inputs(), faults: false })
 * // ValidationError: phases[0].steps[0].input: no physical input "temperature" on this target (inputs: none)
 * ```
 */
export function checkPlan(plan: Pick<TestPlan, 'phases'>, model: DeviceModel, target?: TargetFacts): void {
  for (const { step, path } of planSteps(plan)) {
    if (step.kind === 'measure' || step.kind === 'settle') checkChannelStep(step, path, model, target);
    if (isMethodStep(step)) checkMethodStep(step, path, model, target);
    if (step.kind === 'stimulus' && target !== undefined) checkInput(step.input, step.unit, `${path}.input`, target);
    if (step.kind === 'drive' && target !== undefined) {
      const input = checkInput(step.input, undefined, `${path}.input`, target);
      if (!canConvert(QUANTITY_UNITS[step.quantity], input.unit)) {
        throw new ValidationError(`${path}.quantity`, `an instrument's ${step.quantity} (${QUANTITY_UNITS[step.quantity]}) cannot drive input "${input.name}" (${input.unit})`);
      }
    }
    if (step.kind === 'fault' && target !== undefined && !target.faults) {
      throw new ValidationError(`${path}.target`, 'this target cannot inject faults (fault steps need an emulated target)');
    }
  }
}

function checkChannelStep(step: MeasureStep | SettleStep, path: string, model: DeviceModel, target: TargetFacts | undefined): void {
  const channel = model.channel(step.channel);
  if (channel === undefined) {
    throw new ValidationError(`${path}.channel`, `no channel ${describe(step.channel)} in ${model.id} (channels: ${model.channels.map((c) => c.id).join(', ')})`);
  }
  const convertsTo = (unit: string, where: string): void => {
    if (!canConvert(unit, channel.unit)) throw new ValidationError(where, `"${unit}" does not convert to the channel's unit "${channel.unit}"`);
  };
  if (step.kind === 'settle') {
    convertsTo(step.unit, `${path}.unit`);
    return;
  }
  if (step.unit !== undefined) convertsTo(step.unit, `${path}.unit`);
  const limits = step.limits;
  if (limits !== undefined && 'unit' in limits && limits.unit !== undefined) convertsTo(limits.unit, `${path}.limits.unit`);
  const reference = step.reference;
  if (reference !== undefined && 'unit' in reference) convertsTo(reference.unit, `${path}.reference.unit`);
  if (reference !== undefined && 'input' in reference && target !== undefined) {
    const input = checkInput(reference.input, undefined, `${path}.reference.input`, target);
    if (!canConvert(input.unit, channel.unit)) {
      throw new ValidationError(`${path}.reference.input`, `input "${input.name}" is in "${input.unit}", which does not convert to the channel's unit "${channel.unit}"`);
    }
  }
}

function checkInput(name: string, unit: string | undefined, path: string, target: TargetFacts): PhysicalInput {
  const input = target.inputs.find((candidate) => candidate.name === name);
  if (input === undefined) {
    const known = target.inputs.map((candidate) => candidate.name);
    throw new ValidationError(path, `no physical input ${describe(name)} on this target (inputs: ${known.length === 0 ? 'none' : known.join(', ')})`);
  }
  if (unit !== undefined && !canConvert(unit, input.unit)) {
    throw new ValidationError(path.replace(/\.input$/, '.unit'), `"${unit}" does not convert to input "${name}"'s unit "${input.unit}"`);
  }
  return input;
}

/** A method step: its channel, its units, and the input that sets the quantity on this target. */
function checkMethodStep(step: MethodStep, path: string, model: DeviceModel, target: TargetFacts | undefined): void {
  const channel = model.channel(step.channel);
  if (channel === undefined) {
    throw new ValidationError(`${path}.channel`, `no channel ${describe(step.channel)} in ${model.id} (channels: ${model.channels.map((c) => c.id).join(', ')})`);
  }
  if (step.limits !== undefined && step.kind !== 'step-response') {
    const unit = (step.limits as { unit?: string }).unit;
    const spread = step.kind === 'linearity' || step.kind === 'hysteresis';
    if (unit !== undefined && !(spread && unit === '%') && !unit.endsWith('/h') && !canConvert(unit, channel.unit)) {
      throw new ValidationError(`${path}.limits.unit`, `"${unit}" does not convert to the channel's unit "${channel.unit}"`);
    }
  }
  if (step.source !== undefined || target === undefined) return;
  const input = step.input ?? (step.reference !== undefined && 'input' in step.reference ? step.reference.input : step.channel);
  checkInput(input, step.unit, `${path}.input`, target);
  if (step.kind === 'supply-variation' && step.supplyInput !== undefined) checkInput(step.supplyInput, 'V', `${path}.supplyInput`, target);
}
