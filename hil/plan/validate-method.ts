/**
 * The checks of a method step on the declaration alone: fields of its kind, enough points, readings
 * and cycles for the method, units known, limits and decision rule well formed.
 */
import { describe, join, rejectUnknownKeys, requireArray, requireNumber, requireObject, requireString } from '../../sdk/core/check.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { METHOD_KINDS, type MethodKind, type MethodStep } from './method-spec.js';
import type { StepSpec } from './spec.js';
import type { InstrumentRoles } from './validate-step.js';

const BASE_KEYS = ['kind', 'id', 'channel', 'input', 'source', 'unit', 'reference', 'standard', 'readings', 'intervalMs', 'settleMs', 'limits', 'decisionRule', 'name'];

/** Keys of each kind beyond the base, the fewest points and the fewest readings per point. */
const KINDS: Record<MethodKind, { keys: readonly string[]; points?: number; readings: number }> = {
  accuracy: { keys: ['points'], points: 5, readings: 2 },
  linearity: { keys: ['points'], points: 3, readings: 2 },
  hysteresis: { keys: ['points', 'cycles'], points: 2, readings: 1 },
  repeatability: { keys: ['point'], readings: 10 },
  'step-response': { keys: ['from', 'to', 'durationMs', 'settlingBand'], readings: 1 },
  drift: { keys: ['point', 'durationMs', 'everyMs'], readings: 1 },
  resolution: { keys: ['point'], readings: 5 },
  noise: { keys: ['point'], readings: 10 },
  'supply-variation': { keys: ['point', 'supply', 'nominal', 'conditions', 'dip', 'supplyInput'], readings: 2 },
};

/** The longest duration of a method step: 31 days of target time. */
const MAX_MS = 31 * 24 * 3600_000;

/**
 * True when `kind` is a method step's kind.
 *
 * @example
 * ```ts
 * isMethodKind('hysteresis') // true
 * ```
 */
export function isMethodKind(kind: unknown): kind is MethodKind {
  return typeof kind === 'string' && (METHOD_KINDS as readonly string[]).includes(kind);
}

/**
 * True when `step` is a metrology method step (its kind one of `METHOD_KINDS`).
 *
 * @example
 * ```ts
 * if (isMethodStep(step)) await runMethod(step, run, phase)
 * ```
 */
export function isMethodStep(step: StepSpec): step is MethodStep {
  return 'kind' in step && isMethodKind(step.kind);
}

/**
 * Checks a method step; `requireUnit` and `requireInstrument` are the plan's own checks.
 *
 * @example
 * ```ts
 * validateMethod({ kind: 'accuracy', channel: 'temperature', points: [0, 25] }, 'phases[0].steps[0]', roles, requireUnit, requireInstrument)
 * // ValidationError: phases[0].steps[0].points: the accuracy method needs at least 5 points, got 2
 * ```
 */
export function validateMethod(
  step: Record<string, unknown>,
  path: string,
  roles: InstrumentRoles,
  requireUnit: (value: unknown, path: string) => string,
  requireInstrument: (step: Record<string, unknown>, path: string, roles: InstrumentRoles) => void,
): void {
  const kind = step.kind as MethodKind;
  const rules = KINDS[kind];
  rejectUnknownKeys(step, [...BASE_KEYS, ...rules.keys], path, { list: true });
  if (step.id !== undefined) requireString(step.id, join(path, 'id'), /^[^\s@]{1,60}$/, 'a name without spaces or "@", at most 60 characters');
  requireString(step.channel, join(path, 'channel'));
  if (step.input !== undefined) requireString(step.input, join(path, 'input'));
  if (step.source !== undefined) {
    if (step.input !== undefined) throw new ValidationError(join(path, 'source'), 'give an `input` or a `source`, not both');
    const source = requireObject(step.source, join(path, 'source'));
    rejectUnknownKeys(source, ['instrument', 'quantity'], join(path, 'source'), { list: true });
    requireInstrument(source, join(path, 'source'), roles);
  }
  if (step.unit !== undefined) requireUnit(step.unit, join(path, 'unit'));
  if (step.reference !== undefined) {
    const reference = requireObject(step.reference, join(path, 'reference'));
    if ('input' in reference) requireString(reference.input, join(path, 'reference.input'));
    else if ('instrument' in reference) requireInstrument(reference, join(path, 'reference'), roles);
    else throw new ValidationError(join(path, 'reference'), 'expected { input } or { instrument, quantity }');
  }
  if (step.standard !== undefined) validateStandard(step.standard, join(path, 'standard'));
  const readings = step.readings === undefined ? undefined : requireNumber(step.readings, join(path, 'readings'), { integer: true, min: 1, max: 100_000 });
  if (readings !== undefined && readings < rules.readings) {
    throw new ValidationError(join(path, 'readings'), `the ${kind} method needs at least ${rules.readings} readings, got ${readings}`);
  }
  for (const key of ['intervalMs', 'settleMs'] as const) if (step[key] !== undefined) requireNumber(step[key], join(path, key), { min: 0, max: MAX_MS });
  if (step.decisionRule !== undefined) validateRule(step.decisionRule, join(path, 'decisionRule'));
  if (rules.points !== undefined) {
    const points = requireArray(step.points, join(path, 'points'));
    points.forEach((point, i) => requireNumber(point, `${join(path, 'points')}[${i}]`));
    if (points.length < rules.points) throw new ValidationError(join(path, 'points'), `the ${kind} method needs at least ${rules.points} points, got ${points.length}`);
    if (new Set(points).size !== points.length) throw new ValidationError(join(path, 'points'), 'the points repeat a value');
  }
  if (rules.keys.includes('point')) requireNumber(step.point, join(path, 'point'));
  if (kind === 'step-response') {
    const from = requireNumber(step.from, join(path, 'from'));
    const to = requireNumber(step.to, join(path, 'to'));
    if (from === to) throw new ValidationError(join(path, 'to'), `the step must change the quantity, got from = to = ${to}`);
    if (step.durationMs !== undefined) requireNumber(step.durationMs, join(path, 'durationMs'), { above: 0, max: MAX_MS });
    if (step.settlingBand !== undefined) requireNumber(step.settlingBand, join(path, 'settlingBand'), { above: 0 });
    if (step.limits !== undefined) {
      const limits = requireObject(step.limits, join(path, 'limits'));
      rejectUnknownKeys(limits, ['t63', 't90', 'settlingTime', 'overshoot'], join(path, 'limits'), { list: true });
      for (const [key, value] of Object.entries(limits)) requireNumber(value, join(join(path, 'limits'), key), { min: 0 });
    }
  } else if (step.limits !== undefined) {
    validateLimits(step.limits, join(path, 'limits'), requireUnit);
  }
  if (kind === 'hysteresis' && step.cycles !== undefined) {
    const cycles = requireNumber(step.cycles, join(path, 'cycles'), { integer: true, max: 1000 });
    if (cycles < 3) throw new ValidationError(join(path, 'cycles'), `the hysteresis method needs at least 3 up/down cycles, got ${cycles}`);
  }
  if (kind === 'drift') {
    const duration = requireNumber(step.durationMs, join(path, 'durationMs'), { above: 0, max: MAX_MS });
    if (step.everyMs !== undefined) {
      const every = requireNumber(step.everyMs, join(path, 'everyMs'), { above: 0 });
      if (duration / every < 3) throw new ValidationError(join(path, 'everyMs'), `the drift method needs at least 3 readings over the duration; ${every} ms in ${duration} ms gives fewer`);
    }
  }
  if (kind === 'supply-variation') {
    requireString(step.supply, join(path, 'supply'));
    requireInstrument({ instrument: step.supply, quantity: 'voltage-dc' }, join(path, 'supply'), roles);
    requireNumber(step.nominal, join(path, 'nominal'), { above: 0 });
    const conditions = step.conditions === undefined ? [] : requireArray(step.conditions, join(path, 'conditions'));
    conditions.forEach((value, i) => requireNumber(value, `${join(path, 'conditions')}[${i}]`, { min: 0 }));
    if (step.dip !== undefined) {
      const dip = requireObject(step.dip, join(path, 'dip'));
      rejectUnknownKeys(dip, ['depthPercent', 'durationMs'], join(path, 'dip'), { list: true });
      requireNumber(dip.depthPercent, join(path, 'dip.depthPercent'), { above: 0, max: 100 });
      requireNumber(dip.durationMs, join(path, 'dip.durationMs'), { above: 0, max: MAX_MS });
    }
    if (conditions.length === 0 && step.dip === undefined) throw new ValidationError(path, 'a supply-variation step needs `conditions`, a `dip`, or both');
    if (step.supplyInput !== undefined) requireString(step.supplyInput, join(path, 'supplyInput'));
  }
}

function validateStandard(raw: unknown, path: string): void {
  const standard = requireObject(raw, path);
  rejectUnknownKeys(standard, ['certificate', 'accuracy', 'resolution', 'description'], path, { list: true });
  if (standard.certificate !== undefined) {
    const certificate = requireObject(standard.certificate, join(path, 'certificate'));
    rejectUnknownKeys(certificate, ['expanded', 'coverageFactor', 'degreesOfFreedom'], join(path, 'certificate'), { list: true });
    requireNumber(certificate.expanded, join(path, 'certificate.expanded'), { min: 0 });
    requireNumber(certificate.coverageFactor, join(path, 'certificate.coverageFactor'), { above: 0 });
    if (certificate.degreesOfFreedom !== undefined) requireNumber(certificate.degreesOfFreedom, join(path, 'certificate.degreesOfFreedom'), { above: 0 });
  }
  if (standard.accuracy !== undefined) requireNumber(standard.accuracy, join(path, 'accuracy'), { min: 0 });
  if (standard.resolution !== undefined) requireNumber(standard.resolution, join(path, 'resolution'), { min: 0 });
  if (standard.description !== undefined) requireString(standard.description, join(path, 'description'));
}

function validateRule(raw: unknown, path: string): void {
  if (raw === 'simple' || raw === 'guard-band') return;
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const rule = raw as Record<string, unknown>;
    rejectUnknownKeys(rule, ['guardBand'], path, { list: true });
    requireNumber(rule.guardBand, join(path, 'guardBand'), { min: 0, max: 10 });
    return;
  }
  throw new ValidationError(path, `expected "simple", "guard-band" or { guardBand: fraction of U }, got ${describe(raw)}`);
}

function validateLimits(raw: unknown, path: string, requireUnit: (value: unknown, path: string) => string): void {
  const limits = requireObject(raw, path);
  rejectUnknownKeys(limits, ['tolerance', 'unit', 'factor', 'basis'], path, { list: true });
  if (limits.tolerance === 'mpe') {
    if (limits.unit !== undefined) throw new ValidationError(join(path, 'unit'), 'the MPE is in the channel\'s unit; give no unit with tolerance "mpe"');
  } else {
    requireNumber(limits.tolerance, join(path, 'tolerance'), { min: 0 });
    if (limits.unit === undefined) throw new ValidationError(join(path, 'unit'), 'a tolerance without a unit');
    const unit = requireString(limits.unit, join(path, 'unit'));
    if (!unit.endsWith('/h')) requireUnit(unit, join(path, 'unit'));
  }
  if (limits.factor !== undefined) requireNumber(limits.factor, join(path, 'factor'), { above: 0 });
  if (limits.basis !== undefined) requireString(limits.basis, join(path, 'basis'));
}
