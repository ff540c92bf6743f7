/**
 * The checks of one step of a plan, on the declaration alone (no device needed): kinds, fields,
 * numbers, units known, limits with their unit, instrument roles declared. What needs the device
 * (channels, unit conversions, inputs) is in check-plan.ts.
 */
import { describe, join, rejectUnknownKeys, requireNumber, requireObject, requireOneOf, requireString } from '../../sdk/core/check.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { canConvert, unitInfo } from '../../sdk/core/units.js';
import { QUANTITIES, type InstrumentQuantity } from '../instruments/instrument.js';
import { METHOD_KINDS } from './method-spec.js';
import { isMethodKind, validateMethod } from './validate-method.js';

/** The instrument quantities a plan may name. */
export const INSTRUMENT_QUANTITIES = QUANTITIES;

const STEP_KINDS = ['stimulus', 'drive', 'source', 'wait', 'settle', 'measure', 'fault', 'run', ...METHOD_KINDS] as const;
const QUALITY_LEVELS = ['good', 'uncertain', 'bad'] as const;
/** The longest wait or timeout of one step: 31 days of target time. */
const MAX_DURATION_MS = 31 * 24 * 3600_000;

/**
 * Requires a known unit (SenML or one of the engineering units that convert, such as kPa).
 *
 * @example
 * ```ts
 * requireUnit('degC', 'phases[0].steps[1].unit') // ValidationError: …: unknown unit "degC"; did you mean "Cel"?
 * ```
 */
export function requireUnit(value: unknown, path: string): string {
  const unit = requireString(value, path);
  if (unitInfo(unit) === undefined) {
    const near = ['Cel', 'K', 'Pa', 'hPa', 'kPa', 'bar', 'mA', 'A', 'V', '%RH'].find((known) => known.toLowerCase() === unit.toLowerCase());
    const hint = unit === '°C' || unit === 'degC' || unit === 'C' ? 'Cel' : near;
    throw new ValidationError(path, `unknown unit ${describe(unit)}${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  return unit;
}

function requireDuration(value: unknown, path: string, options: { zero?: boolean } = {}): number {
  return requireNumber(value, path, options.zero ? { min: 0, max: MAX_DURATION_MS } : { above: 0, max: MAX_DURATION_MS });
}

function optionalName(step: Record<string, unknown>, path: string): void {
  if (step.name !== undefined) requireString(step.name, join(path, 'name'));
}

/** The roles and quantities of the plan's instruments, for the steps that name them. */
export type InstrumentRoles = ReadonlyMap<string, readonly InstrumentQuantity[]>;

function requireInstrument(step: Record<string, unknown>, path: string, roles: InstrumentRoles): void {
  const role = requireString(step.instrument, join(path, 'instrument'));
  const quantities = roles.get(role);
  if (quantities === undefined) {
    const known = [...roles.keys()];
    throw new ValidationError(join(path, 'instrument'), `no instrument role ${describe(role)} in the plan's instruments (roles: ${known.length === 0 ? 'none' : known.join(', ')})`);
  }
  const quantity = requireOneOf(step.quantity, INSTRUMENT_QUANTITIES, join(path, 'quantity'));
  if (!quantities.includes(quantity)) {
    throw new ValidationError(join(path, 'quantity'), `the plan's instrument "${role}" is declared for ${quantities.join(', ')}, not ${quantity}`);
  }
}

/**
 * Checks one step. `path` is where it sits, e.g. `phases[1].steps[2]`.
 *
 * @example
 * ```ts
 * validateStep({ kind: 'wait', durationMs: 0 }, 'phases[0].steps[0]', new Map())
 * // ValidationError: phases[0].steps[0].durationMs: must be above 0, got 0
 * ```
 */
export function validateStep(raw: unknown, path: string, roles: InstrumentRoles): void {
  const step = requireObject(raw, path);
  if (step.kind === undefined || step.kind === 'run') {
    if (typeof step.run !== 'function') {
      throw new ValidationError(join(path, 'kind'), `a step needs a kind (${STEP_KINDS.join(', ')}), or a \`run\` function`);
    }
    rejectUnknownKeys(step, ['kind', 'run', 'name', 'timeoutMs'], path, { list: true });
    if (step.timeoutMs !== undefined) requireDuration(step.timeoutMs, join(path, 'timeoutMs'));
    optionalName(step, path);
    return;
  }
  const kind = requireOneOf(step.kind, STEP_KINDS, join(path, 'kind'));
  if (isMethodKind(kind)) {
    validateMethod(step, path, roles, requireUnit, requireInstrument);
    optionalName(step, path);
    return;
  }
  switch (kind) {
    case 'stimulus':
      rejectUnknownKeys(step, ['kind', 'input', 'value', 'unit', 'name'], path, { list: true });
      requireString(step.input, join(path, 'input'));
      requireNumber(step.value, join(path, 'value'));
      requireUnit(step.unit, join(path, 'unit'));
      break;
    case 'drive':
      rejectUnknownKeys(step, ['kind', 'input', 'instrument', 'quantity', 'name'], path, { list: true });
      requireString(step.input, join(path, 'input'));
      requireInstrument(step, path, roles);
      break;
    case 'source':
      rejectUnknownKeys(step, ['kind', 'instrument', 'quantity', 'value', 'unit', 'name'], path, { list: true });
      requireInstrument(step, path, roles);
      requireNumber(step.value, join(path, 'value'));
      requireUnit(step.unit, join(path, 'unit'));
      break;
    case 'wait':
      rejectUnknownKeys(step, ['kind', 'durationMs', 'name'], path, { list: true });
      requireDuration(step.durationMs, join(path, 'durationMs'));
      break;
    case 'settle':
      rejectUnknownKeys(step, ['kind', 'id', 'channel', 'tolerance', 'unit', 'windowMs', 'timeoutMs', 'name'], path, { list: true });
      if (step.id !== undefined) requireString(step.id, join(path, 'id'), /^[^\s]{1,80}$/, 'a name without spaces, at most 80 characters');
      requireString(step.channel, join(path, 'channel'));
      requireNumber(step.tolerance, join(path, 'tolerance'), { above: 0 });
      if (step.unit === undefined) throw new ValidationError(join(path, 'unit'), 'a tolerance without a unit');
      requireUnit(step.unit, join(path, 'unit'));
      requireDuration(step.windowMs, join(path, 'windowMs'));
      requireDuration(step.timeoutMs, join(path, 'timeoutMs'));
      if ((step.timeoutMs as number) < (step.windowMs as number)) {
        throw new ValidationError(join(path, 'timeoutMs'), `must be at least the window (${step.windowMs as number} ms), got ${step.timeoutMs as number}`);
      }
      break;
    case 'measure':
      validateMeasure(step, path, roles);
      break;
    case 'fault':
      rejectUnknownKeys(step, ['kind', 'target', 'fault', 'durationMs', 'options', 'name'], path, { list: true });
      requireString(step.target, join(path, 'target'));
      requireString(step.fault, join(path, 'fault'));
      if (step.durationMs !== undefined) requireDuration(step.durationMs, join(path, 'durationMs'));
      if (step.options !== undefined) {
        const options = requireObject(step.options, join(path, 'options'));
        rejectUnknownKeys(options, ['probability', 'sigma', 'timeoutMs', 'wiring'], join(path, 'options'), { list: true });
      }
      break;
    case 'run':
      break; // handled above
  }
  optionalName(step, path);
}

const MEASURE_KEYS = ['kind', 'id', 'channel', 'samples', 'unit', 'reference', 'limits', 'expectQuality', 'timeoutMs', 'decisionRule', 'name'];

function validateMeasure(step: Record<string, unknown>, path: string, roles: InstrumentRoles): void {
  rejectUnknownKeys(step, MEASURE_KEYS, path);
  if (step.id !== undefined) requireString(step.id, join(path, 'id'), /^[^\s]{1,80}$/, 'a name without spaces, at most 80 characters');
  requireString(step.channel, join(path, 'channel'));
  if (step.samples !== undefined) requireNumber(step.samples, join(path, 'samples'), { integer: true, min: 1, max: 100_000 });
  const unit = step.unit === undefined ? undefined : requireUnit(step.unit, join(path, 'unit'));
  if (step.timeoutMs !== undefined) requireDuration(step.timeoutMs, join(path, 'timeoutMs'));
  if (step.expectQuality !== undefined) requireOneOf(step.expectQuality, QUALITY_LEVELS, join(path, 'expectQuality'));
  if (step.decisionRule !== undefined) requireOneOf(step.decisionRule, ['simple'], join(path, 'decisionRule'));
  if (step.reference !== undefined) validateReference(step.reference, join(path, 'reference'), roles);
  if (step.limits !== undefined) validateLimits(step.limits, join(path, 'limits'), { hasReference: step.reference !== undefined, unit });
}

function validateReference(raw: unknown, path: string, roles: InstrumentRoles): void {
  const reference = requireObject(raw, path);
  if ('input' in reference) {
    rejectUnknownKeys(reference, ['input'], path, { list: true });
    requireString(reference.input, join(path, 'input'));
  } else if ('instrument' in reference) {
    rejectUnknownKeys(reference, ['instrument', 'quantity'], path, { list: true });
    requireInstrument(reference, path, roles);
  } else if ('value' in reference) {
    rejectUnknownKeys(reference, ['value', 'unit'], path, { list: true });
    requireNumber(reference.value, join(path, 'value'));
    if (reference.unit === undefined) throw new ValidationError(join(path, 'unit'), 'a reference value without a unit');
    requireUnit(reference.unit, join(path, 'unit'));
  } else {
    throw new ValidationError(path, 'expected { input }, { instrument, quantity } or { value, unit }');
  }
}

function validateLimits(raw: unknown, path: string, context: { hasReference: boolean; unit: string | undefined }): void {
  const limits = requireObject(raw, path);
  if (limits.basis !== undefined) requireString(limits.basis, join(path, 'basis'));
  if ('tolerance' in limits) {
    rejectUnknownKeys(limits, ['tolerance', 'unit', 'factor', 'basis'], path, { list: true });
    if (!context.hasReference) throw new ValidationError(join(path, 'tolerance'), 'a tolerance around the reference needs a `reference`');
    if (limits.factor !== undefined) requireNumber(limits.factor, join(path, 'factor'), { above: 0 });
    if (limits.tolerance === 'mpe') {
      if (limits.unit !== undefined) throw new ValidationError(join(path, 'unit'), 'the MPE is in the channel\'s unit; give no unit with tolerance "mpe"');
      return;
    }
    requireNumber(limits.tolerance, join(path, 'tolerance'), { min: 0 });
    if (limits.unit === undefined) throw new ValidationError(path, 'a limit without a unit');
    checkUnitAgainst(requireUnit(limits.unit, join(path, 'unit')), context.unit, join(path, 'unit'));
    return;
  }
  rejectUnknownKeys(limits, ['low', 'high', 'unit', 'basis'], path, { list: true });
  if (limits.low === undefined && limits.high === undefined) throw new ValidationError(path, 'expected `low`, `high` or both, or a `tolerance`');
  const low = limits.low === undefined ? undefined : requireNumber(limits.low, join(path, 'low'));
  const high = limits.high === undefined ? undefined : requireNumber(limits.high, join(path, 'high'));
  if (low !== undefined && high !== undefined && !(low <= high)) throw new ValidationError(path, `inverted limits: low ${low} is above high ${high}`);
  if (limits.unit === undefined) throw new ValidationError(path, 'a limit without a unit');
  checkUnitAgainst(requireUnit(limits.unit, join(path, 'unit')), context.unit, join(path, 'unit'));
}

function checkUnitAgainst(unit: string, measured: string | undefined, path: string): void {
  if (measured !== undefined && !canConvert(unit, measured)) {
    throw new ValidationError(path, `"${unit}" does not convert to the measurement's unit "${measured}"`);
  }
}
