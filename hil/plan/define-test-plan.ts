/**
 * `defineTestPlan()`: validates a test plan declaration like `defineDevice()` validates a device —
 * one `ValidationError` line with the path of the bad field — and returns the frozen plan.
 */
import { describe, join, rejectUnknownKeys, requireArray, requireIdentifier, requireNumber, requireObject, requireOneOf, requireString, requireUnique } from '../../sdk/core/check.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { DeviceModel } from '../../sdk/model/define-device.js';
import type { DeviceSource } from '../../sdk/runtime/device-source.js';
import type { InstrumentQuantity } from '../instruments/instrument.js';
import type { ObservationKind } from '../targets/target.js';
import { checkPlan } from './check-plan.js';
import type { ConditionalOutcomes, MeasureStep, PhaseSpec, StepSpec, TestPlanSpec } from './spec.js';
import { INSTRUMENT_QUANTITIES, validateStep, type InstrumentRoles } from './validate-step.js';

/** A phase as the plan holds it: name and measurement ids filled in. */
export interface PhasePlan extends PhaseSpec {
  readonly name: string;
  readonly repeat: number;
}

/**
 * A validated, frozen test plan. Create it with {@link defineTestPlan}.
 *
 * @example
 * ```ts
 * const plan = defineTestPlan(spec)
 * plan.phases[0].name   // the id when the phase has no name
 * plan.withDevice(await resolveDevice(plan.device as string))
 * ```
 */
export class TestPlan {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly description: string | undefined;
  /** The device under test, as declared (a path, a model, or a model with its emulation). */
  readonly device: DeviceSource;
  readonly observation: ObservationKind;
  /** Instrument roles and the quantities the plan needs of each. */
  readonly instruments: Readonly<Record<string, readonly InstrumentQuantity[]>>;
  readonly phases: readonly PhasePlan[];
  readonly metadata: Readonly<Record<string, string | number | boolean>>;
  /** How conditional (ILAC-G8) outcomes count in JUnit and the exit code; undefined: the default (a conditional fail fails, a conditional pass passes). */
  readonly conditionalOutcomes: ConditionalOutcomes | undefined;
  /** The declaration as given. */
  readonly spec: TestPlanSpec;

  /** @internal Use `defineTestPlan()`. */
  constructor(spec: TestPlanSpec, phases: readonly PhasePlan[]) {
    this.spec = spec;
    this.id = spec.id;
    this.name = spec.name;
    this.version = spec.version;
    this.description = spec.description;
    this.device = spec.device;
    this.observation = spec.observation ?? 'in-process';
    this.instruments = spec.instruments ?? {};
    this.phases = phases;
    this.metadata = spec.metadata ?? {};
    this.conditionalOutcomes = spec.conditionalOutcomes;
    Object.freeze(this);
  }

  /**
   * The same plan with another device source (a loaded device file in place of its path).
   *
   * @example
   * ```ts
   * const loaded = plan.withDevice(await resolveDevice('examples/env-node'))
   * ```
   */
  withDevice(device: DeviceSource): TestPlan {
    return new TestPlan({ ...this.spec, device }, this.phases);
  }
}

const PLAN_KEYS = ['id', 'name', 'version', 'description', 'device', 'observation', 'instruments', 'phases', 'metadata', 'conditionalOutcomes'];
const PHASE_KEYS = ['id', 'name', 'description', 'setup', 'steps', 'teardown', 'skip', 'repeat', 'timeoutMs', 'onFailure', 'always'];

/**
 * Validates a plan and returns the frozen `TestPlan`. Throws `ValidationError` whose path names
 * the bad field (`phases[1].steps[2].limits: a limit without a unit`). When `device` is a model,
 * the channels and units are checked against it here; for a device file path, `loadTestPlan` and
 * `runTestPlan` check them once the file is loaded.
 *
 * @example
 * ```ts
 * export default defineTestPlan({
 *   id: 'room-temperature', name: 'Room temperature', version: '1.0.0',
 *   device: 'examples/env-node',
 *   phases: [{ id: 'at-25', steps: [
 *     { kind: 'stimulus', input: 'temperature', value: 25, unit: 'Cel' },
 *     { kind: 'settle', channel: 'temperature', tolerance: 0.05, unit: 'Cel', windowMs: 10_000, timeoutMs: 120_000 },
 *     { kind: 'measure', id: 'error@25Cel', channel: 'temperature', samples: 5, reference: { input: 'temperature' }, limits: { tolerance: 'mpe' } },
 *   ] }],
 * })
 * ```
 */
export function defineTestPlan(spec: TestPlanSpec): TestPlan {
  const plan = requireObject(spec, '');
  rejectUnknownKeys(plan, PLAN_KEYS, '');
  requireIdentifier(plan.id, 'id');
  requireString(plan.name, 'name');
  requireString(plan.version, 'version');
  if (plan.description !== undefined) requireString(plan.description, 'description');
  validateDevice(plan.device);
  if (plan.observation !== undefined) requireOneOf(plan.observation, ['in-process', 'mqtt', 'opcua'], 'observation');
  const roles = validateInstruments(plan.instruments);
  if (plan.metadata !== undefined) validateMetadata(plan.metadata);
  if (plan.conditionalOutcomes !== undefined) {
    const conditional = requireObject(plan.conditionalOutcomes, 'conditionalOutcomes');
    rejectUnknownKeys(conditional, ['pass', 'fail'], 'conditionalOutcomes', { list: true });
    if (conditional.pass !== undefined) requireOneOf(conditional.pass, ['pass', 'fail'], 'conditionalOutcomes.pass');
    if (conditional.fail !== undefined) requireOneOf(conditional.fail, ['pass', 'fail'], 'conditionalOutcomes.fail');
  }

  const phases = requireArray(plan.phases, 'phases', { nonEmpty: true });
  const planned = phases.map((phase, i) => validatePhase(phase, `phases[${i}]`, roles));
  requireUnique(planned.map((phase) => phase.id), (i) => `phases[${i}].id`);

  const frozen = new TestPlan(deepFreeze({ ...(spec as object) }) as TestPlanSpec, deepFreeze(planned));
  const model = modelOf(spec.device);
  if (model !== undefined) checkPlan(frozen, model);
  return frozen;
}

/**
 * The model of a device source that holds one (not a path).
 *
 * @example
 * ```ts
 * modelOf({ model, emulation }) // model
 * modelOf('examples/env-node')  // undefined: loaded when the plan is loaded or run
 * ```
 */
export function modelOf(device: DeviceSource): DeviceModel | undefined {
  if (device instanceof DeviceModel) return device;
  if (typeof device === 'object' && device !== null && device.model instanceof DeviceModel) return device.model;
  return undefined;
}

function validateDevice(device: unknown): void {
  if (typeof device === 'string') {
    requireString(device, 'device');
    return;
  }
  if (modelOf(device as DeviceSource) === undefined) {
    throw new ValidationError('device', `expected a device file path, a device model (defineDevice) or { model, emulation? }, got ${describe(device)}`);
  }
}

function validateInstruments(raw: unknown): InstrumentRoles {
  const roles = new Map<string, readonly InstrumentQuantity[]>();
  if (raw === undefined) return roles;
  const instruments = requireObject(raw, 'instruments');
  for (const [role, quantities] of Object.entries(instruments)) {
    const path = `instruments.${role}`;
    requireIdentifier(role, path);
    const list = requireArray(quantities, path, { nonEmpty: true }).map((q, i) => requireOneOf(q, INSTRUMENT_QUANTITIES, `${path}[${i}]`));
    roles.set(role, list);
  }
  return roles;
}

function validateMetadata(raw: unknown): void {
  const metadata = requireObject(raw, 'metadata');
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new ValidationError(`metadata.${key}`, `expected a string, a finite number or a boolean, got ${describe(value)}`);
    }
  }
}

function validatePhase(raw: unknown, path: string, roles: InstrumentRoles): PhasePlan {
  const phase = requireObject(raw, path);
  rejectUnknownKeys(phase, PHASE_KEYS, path);
  const id = requireIdentifier(phase.id, join(path, 'id'));
  if (phase.name !== undefined) requireString(phase.name, join(path, 'name'));
  if (phase.description !== undefined) requireString(phase.description, join(path, 'description'));
  if (phase.skip !== undefined) requireString(phase.skip, join(path, 'skip'));
  if (phase.repeat !== undefined) requireNumber(phase.repeat, join(path, 'repeat'), { integer: true, min: 1, max: 10_000 });
  if (phase.timeoutMs !== undefined) requireNumber(phase.timeoutMs, join(path, 'timeoutMs'), { above: 0 });
  if (phase.onFailure !== undefined) requireOneOf(phase.onFailure, ['continue', 'stop'], join(path, 'onFailure'));
  if (phase.always !== undefined && typeof phase.always !== 'boolean') throw new ValidationError(join(path, 'always'), `expected a boolean, got ${describe(phase.always)}`);
  const parts = {} as Record<'setup' | 'steps' | 'teardown', StepSpec[]>;
  for (const part of ['setup', 'steps', 'teardown'] as const) {
    if (part !== 'steps' && phase[part] === undefined) continue;
    const steps = requireArray(phase[part], join(path, part), { nonEmpty: part === 'steps' });
    steps.forEach((step, i) => validateStep(step, `${join(path, part)}[${i}]`, roles));
    parts[part] = steps as StepSpec[];
  }
  const named = nameMeasurements(parts, path);
  return {
    ...(phase as unknown as PhaseSpec),
    name: (phase.name as string | undefined) ?? id,
    repeat: (phase.repeat as number | undefined) ?? 1,
    ...named,
  };
}

/**
 * Gives each measure step without an id its channel as id (`temperature`, then `temperature#2` …)
 * and refuses two measurements of one phase with the same id.
 */
function nameMeasurements(parts: Record<'setup' | 'steps' | 'teardown', StepSpec[] | undefined>, path: string): Partial<Record<'setup' | 'steps' | 'teardown', StepSpec[]>> {
  const seen = new Map<string, string>();
  const counts = new Map<string, number>();
  const result: Partial<Record<'setup' | 'steps' | 'teardown', StepSpec[]>> = {};
  for (const part of ['setup', 'steps', 'teardown'] as const) {
    const steps = parts[part];
    if (steps === undefined) continue;
    result[part] = steps.map((step, i) => {
      const where = `${join(path, part)}[${i}]`;
      if (step.kind === 'settle' && step.id !== undefined) {
        const first = seen.get(step.id);
        if (first !== undefined) throw new ValidationError(`${where}.id`, `duplicate measurement id ${describe(step.id)} (first used at ${first})`);
        seen.set(step.id, where);
        return step;
      }
      if (step.kind !== 'measure') return step;
      let id = step.id;
      if (id === undefined) {
        const n = (counts.get(step.channel) ?? 0) + 1;
        counts.set(step.channel, n);
        id = n === 1 ? step.channel : `${step.channel}#${n}`;
      }
      const first = seen.get(id);
      if (first !== undefined) throw new ValidationError(`${where}.id`, `duplicate measurement id ${describe(id)} (first used at ${first})`);
      seen.set(id, where);
      return { ...step, id } satisfies MeasureStep;
    });
  }
  return result;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !(value instanceof DeviceModel)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
