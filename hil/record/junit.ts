/**
 * JUnit XML of a run record, in the form CI servers read (the Ant/Jenkins `testsuites` schema): a
 * test suite per executed phase, a test case per measurement (classname `<plan id>.<phase id>`,
 * with `#<iteration>` for a repeated phase; name the measurement id), a failure carrying the measured value, its unit and the limit, an error
 * for an aborted phase with its reason, `skipped` for a skipped phase or measurement. Times are
 * target time in seconds, so a replay writes the same file apart from the `timestamp`.
 */
import type { LimitsRecord, MeasurementRecord, Outcome, PhaseRecord, RunRecord } from './record.js';

/**
 * How a conditional (ILAC-G8) outcome counts in JUnit. Each option defaults to the record's
 * `conditionalOutcomes` (the plan's rule), and without one to the value below.
 */
export interface JunitOptions {
  /** Default `pass`: the measured value is inside the limits, though not by the uncertainty. */
  readonly conditionalPass?: 'pass' | 'fail';
  /** Default `fail`: the measured value is outside the limits, though not by the uncertainty. */
  readonly conditionalFail?: 'pass' | 'fail';
}

/** XML 1.0 §2.2 Char: what may appear in a document at all. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Escapes text for XML content and attribute values: `& < > " '` as entities, tab, newline and
 * carriage return as character references (kept through attribute-value normalisation, XML 1.0
 * §3.3.3), and characters XML 1.0 cannot carry (NUL, other C0 controls, lone surrogates, U+FFFE,
 * U+FFFF) shown as `\uXXXX` text.
 *
 * @example
 * ```ts
 * xmlEscape('a < b & "c"\n') // 'a &lt; b &amp; &quot;c&quot;&#10;'
 * ```
 */
export function xmlEscape(text: string): string {
  return text
    .replace(NOT_XML_CHAR, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/[&<>"'\t\n\r]/g, (char) => ENTITY[char]!);
}

const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

function attributes(values: Readonly<Record<string, string | number | undefined>>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${xmlEscape(String(value))}"`)
    .join('');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * Limits in one line: `[18, 22] Cel`, `≥ 3.8 mA` or `≤ 20.5 mA`, with the basis when there is one.
 *
 * @example
 * ```ts
 * describeLimits({ low: 24, high: 26, unit: 'Cel', basis: 'MPE ±1 Cel' }) // '[24, 26] Cel (MPE ±1 Cel)'
 * ```
 */
export function describeLimits(limits: LimitsRecord): string {
  const { low, high, unit } = limits;
  const range = low !== undefined && high !== undefined ? `[${low}, ${high}] ${unit}` : low !== undefined ? `≥ ${low} ${unit}` : high !== undefined ? `≤ ${high} ${unit}` : `none (${unit})`;
  return limits.basis ? `${range} (${limits.basis})` : range;
}

function describeValue(measurement: MeasurementRecord): string {
  return measurement.value === null ? 'no value' : `${measurement.value} ${measurement.unit}`;
}

/** The lines a failure or a passing case carries in its body. */
function details(measurement: MeasurementRecord): string {
  const lines = [`measured: ${describeValue(measurement)}${measurement.samples === undefined ? '' : ` (mean of ${measurement.samples} samples)`}`];
  if (measurement.reference) lines.push(`reference: ${measurement.reference.value} ${measurement.reference.unit} (${measurement.reference.source})`);
  if (measurement.limits) lines.push(`limits: ${describeLimits(measurement.limits)}`);
  if (measurement.uncertainty) lines.push(`expanded uncertainty: ±${measurement.uncertainty.expanded} ${measurement.unit} (k = ${measurement.uncertainty.coverageFactor})`);
  if (measurement.decisionRule) lines.push(`decision rule: ${measurement.decisionRule}`);
  lines.push(`outcome: ${measurement.outcome}${measurement.reason ? ` (${measurement.reason})` : ''}`);
  lines.push(`time: ${measurement.time} ms`);
  return lines.join('\n');
}

type Verdict = 'pass' | 'fail' | 'error' | 'skipped';

function verdictOf(outcome: Outcome, options: JunitOptions): Verdict {
  switch (outcome) {
    case 'pass':
    case 'recorded':
      return 'pass';
    case 'fail':
      return 'fail';
    case 'conditional-pass':
      return options.conditionalPass ?? 'pass';
    case 'conditional-fail':
      return options.conditionalFail ?? 'fail';
    case 'skipped':
      return 'skipped';
    case 'aborted':
      return 'error';
  }
}

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly time: number;
  readonly verdict: Verdict;
  readonly message: string;
  readonly body: string;
}

function measurementCase(classname: string, measurement: MeasurementRecord, options: JunitOptions): Case {
  const verdict = verdictOf(measurement.outcome, options);
  const limit = measurement.limits ? `; limits ${describeLimits(measurement.limits)}` : '';
  const message = verdict === 'pass' ? '' : `${measurement.reason ?? measurement.outcome}: measured ${describeValue(measurement)}${limit}`;
  return { classname, name: measurement.id, time: 0, verdict, message, body: details(measurement) };
}

/** Test cases of one phase execution: its measurements, and the phase itself when it did not run through. */
function phaseCases(classname: string, phase: PhaseRecord, options: JunitOptions): Case[] {
  const cases = phase.measurements.map((measurement) => measurementCase(classname, measurement, options));
  const phaseVerdict = verdictOf(phase.outcome, options);
  const why = phase.reason ?? phase.outcome;
  const log = phase.log.map((entry) => `${entry.time} ms  ${entry.message}`).join('\n');
  if (phaseVerdict === 'error' || phaseVerdict === 'skipped') {
    cases.push({ classname, name: `(phase ${phase.id})`, time: phase.duration, verdict: phaseVerdict, message: `phase ${phase.outcome}: ${why}`, body: log });
  } else if (phaseVerdict === 'fail' && !cases.some((c) => c.verdict === 'fail' || c.verdict === 'error')) {
    // A phase that failed with no failing measurement (a custom step judged it): still a failure.
    cases.push({ classname, name: `(phase ${phase.id})`, time: phase.duration, verdict: 'fail', message: `phase failed: ${why}`, body: log });
  }
  return cases;
}

function renderCase(c: Case): string {
  const open = `    <testcase${attributes({ classname: c.classname, name: c.name, time: seconds(c.time) })}`;
  switch (c.verdict) {
    case 'pass':
      return `${open}>\n      <system-out>${xmlEscape(c.body)}</system-out>\n    </testcase>`;
    case 'fail':
      return `${open}>\n      <failure${attributes({ message: c.message, type: 'limit' })}>${xmlEscape(c.body)}</failure>\n    </testcase>`;
    case 'error':
      return `${open}>\n      <error${attributes({ message: c.message, type: 'aborted' })}>${xmlEscape(c.body)}</error>\n    </testcase>`;
    case 'skipped':
      return `${open}>\n      <skipped${attributes({ message: c.message })}/>\n    </testcase>`;
  }
}

function counts(cases: readonly Case[]): { tests: number; failures: number; errors: number; skipped: number } {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.verdict === 'fail').length,
    errors: cases.filter((c) => c.verdict === 'error').length,
    skipped: cases.filter((c) => c.verdict === 'skipped').length,
  };
}

/**
 * The JUnit XML of a run: one test case per measurement, failures with the measured value, unit and
 * limit, aborted phases as errors with the reason, skipped phases as skipped. Conditional outcomes
 * count as `options` say, else as the record's `conditionalOutcomes` (the plan's rule) says, else
 * a conditional fail fails and a conditional pass passes.
 *
 * @example
 * ```ts
 * await writeFile('out/junit.xml', junitXml(record))
 * junitXml(record, { conditionalPass: 'fail' }) // strict: pass only when clear of the limits by U
 * ```
 */
export function junitXml(record: RunRecord, junitOptions: JunitOptions = {}): string {
  const planId = record.plan.id;
  // The plan's own rule (recorded as conditionalOutcomes) is the default; options override it.
  const options: JunitOptions = {
    conditionalPass: junitOptions.conditionalPass ?? record.conditionalOutcomes?.pass ?? 'pass',
    conditionalFail: junitOptions.conditionalFail ?? record.conditionalOutcomes?.fail ?? 'fail',
  };
  // A repeated phase's iterations are told apart by `#N`, so no two test cases share a full name.
  const repeated = new Set(record.phases.filter((phase, i) => record.phases.findIndex((other) => other.id === phase.id) !== i).map((phase) => phase.id));
  const suites = record.phases.map((phase) => {
    const name = `${planId}.${phase.id}${repeated.has(phase.id) ? `#${phase.iteration}` : ''}`;
    return { name, phase, cases: phaseCases(name, phase, options) };
  });
  const runCases: Case[] = [];
  if (record.outcome === 'aborted' && !record.phases.some((phase) => phase.outcome === 'aborted')) {
    runCases.push({ classname: planId, name: '(run)', time: record.clock.duration, verdict: 'error', message: `run aborted: ${record.reason ?? 'no reason given'}`, body: '' });
  }
  const all = [...suites.flatMap((suite) => suite.cases), ...runCases];
  const properties = [
    ['plan.version', record.plan.version],
    ['plan.digest', record.plan.digest],
    ['target', record.target.description],
    ['device', `${record.device.id} ${record.device.serialNumber}`],
    ['seed', String(record.seed)],
    ['outcome', record.outcome],
  ]
    .map(([name, value]) => `      <property${attributes({ name, value })}/>`)
    .join('\n');
  // The Jenkins schema's timestamp: ISO 8601 to the second, without a zone (UTC here).
  const timestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(record.startedAt)?.[0];
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attributes({ name: record.plan.name, ...counts(all), time: seconds(record.clock.duration) })}>`];
  const suiteBlocks = [...suites.map(({ name, phase, cases }) => ({ name, time: phase.duration, cases })), ...(runCases.length > 0 ? [{ name: planId, time: record.clock.duration, cases: runCases }] : [])];
  suiteBlocks.forEach((suite, index) => {
    lines.push(`  <testsuite${attributes({ name: suite.name, ...counts(suite.cases), time: seconds(suite.time), timestamp, id: index })}>`);
    lines.push('    <properties>', properties, '    </properties>');
    lines.push(...suite.cases.map(renderCase));
    lines.push('  </testsuite>');
  });
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
