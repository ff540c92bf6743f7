/**
 * One phase of the report: its heading and outcome, the table of every measurement (value,
 * reference, error, limits, U and k, decision rule, outcome), its plots (time series; error against
 * the reference for accuracy-type phases), uncertainty budgets (GUM, JCGM 100 §5) and its log.
 */
import { canConvert, convert } from '../../sdk/core/units.js';
import type { MeasurementRecord, PhaseRecord, UncertaintyRecord } from '../record/record.js';
import { decimalsFor, formatDuration, formatFixed, formatNumber, OUTCOME_TEXT, uncertaintyDecimals, unitLabel, withUnit } from './format.js';
import { escapeHtml } from './html.js';
import { errorPlot, linePlot, type ErrorPoint, type PlotLine } from './plot.js';

/** At most this many log lines per phase in the report; record.json keeps them all. */
const LOG_LINES = 200;

/** A measurement's numbers in its own unit: the reference, the error and the limits, when they convert. */
interface Derived {
  readonly reference?: number;
  readonly error?: number;
  readonly low?: number;
  readonly high?: number;
  /** Decimal places for the value, reference and error. */
  readonly decimals: number;
}

/**
 * The reference, error (value − reference) and limits of `m`, all in `m.unit`. Without U, numbers
 * get `tableDecimals` (one count for a unit across a table, so its column lines up), or more when
 * that would leave a small value fewer than three significant digits.
 *
 * @example
 * ```ts
 * derive({ id: 'error@25', value: 25.12, unit: 'Cel', reference: { value: 25, unit: 'Cel', source: 'stated' },
 *   limits: { low: 24, high: 26, unit: 'Cel' }, outcome: 'pass', time: 0 })
 * // { reference: 25, error: 0.12…, low: 24, high: 26, decimals: 3 }
 * ```
 */
export function derive(m: MeasurementRecord, tableDecimals?: number): Derived {
  const toUnit = (value: number | undefined, unit: string): number | undefined =>
    value === undefined || !Number.isFinite(value) ? undefined : unit === m.unit ? value : canConvert(unit, m.unit) ? convert(value, unit, m.unit) : undefined;
  const reference = m.reference === undefined ? undefined : toUnit(m.reference.value, m.reference.unit);
  const error = reference !== undefined && m.value !== null && Number.isFinite(m.value) ? m.value - reference : undefined;
  const low = m.limits === undefined ? undefined : toUnit(m.limits.low, m.limits.unit);
  const high = m.limits === undefined ? undefined : toUnit(m.limits.high, m.limits.unit);
  const decimals =
    m.uncertainty !== undefined && m.uncertainty.expanded > 0
      ? uncertaintyDecimals(m.uncertainty.expanded)
      : Math.max(tableDecimals ?? decimalsFor(magnitude(m.value, reference), 5), decimalsFor(magnitude(m.value, reference), 3));
  return { ...(reference === undefined ? {} : { reference }), ...(error === undefined ? {} : { error }), ...(low === undefined ? {} : { low }), ...(high === undefined ? {} : { high }), decimals };
}

/** The larger magnitude of a value and its reference (0 when neither is a finite number). */
function magnitude(value: number | null, reference: number | undefined): number {
  return Math.max(value !== null && Number.isFinite(value) ? Math.abs(value) : 0, reference !== undefined && Number.isFinite(reference) ? Math.abs(reference) : 0);
}

/** Decimals per unit for the measurements of a table that have no U: five significant digits of the largest. */
function tableDecimals(ms: readonly MeasurementRecord[]): Map<string, number> {
  const largest = new Map<string, number>();
  for (const m of ms) {
    if (m.uncertainty !== undefined) continue;
    const reference = m.reference !== undefined && m.reference.unit === m.unit ? m.reference.value : undefined;
    largest.set(m.unit, Math.max(largest.get(m.unit) ?? 0, magnitude(m.value, reference)));
  }
  return new Map([...largest].map(([unit, max]) => [unit, decimalsFor(max, 5)]));
}

/**
 * An outcome as a badge whose text carries the meaning and whose colour repeats it.
 *
 * @example
 * ```ts
 * outcomeBadge('conditional-pass') // '<span class="outcome conditional-pass">CONDITIONAL PASS</span>'
 * ```
 */
export function outcomeBadge(outcome: MeasurementRecord['outcome']): string {
  return `<span class="outcome ${outcome}">${OUTCOME_TEXT[outcome] ?? escapeHtml(String(outcome).toUpperCase())}</span>`;
}

/**
 * The phase's section: heading, reason, measurement table, plots, budgets and log.
 *
 * @example
 * ```ts
 * const html = record.phases.map((phase, i) => renderPhase(phase, i, phase.iteration > 1)).join('\n')
 * ```
 */
export function renderPhase(phase: PhaseRecord, index: number, repeated: boolean): string {
  const anchor = `phase-${index + 1}`;
  const iteration = repeated ? ` — iteration ${phase.iteration}` : '';
  const parts = [
    `<section class="phase" id="${anchor}">`,
    `<div class="phase-head"><h3>${index + 1}. ${escapeHtml(phase.name)} <span class="mono">(${escapeHtml(phase.id)})</span>${escapeHtml(iteration)}</h3>${outcomeBadge(phase.outcome)}`,
    `<span class="phase-meta">start ${escapeHtml(formatDuration(phase.start))} · duration ${escapeHtml(formatDuration(phase.duration))} · ${phase.measurements.length} measurement${phase.measurements.length === 1 ? '' : 's'}</span></div>`,
  ];
  if (phase.reason !== undefined) parts.push(`<p class="reason-line"><strong>${phase.outcome === 'skipped' ? 'Skipped' : phase.outcome === 'aborted' ? 'Aborted' : 'Reason'}:</strong> ${escapeHtml(phase.reason)}</p>`);
  if (phase.measurements.length > 0) parts.push(measurementTable(phase));
  else parts.push(`<p class="reason">No measurements${phase.outcome === 'skipped' ? ': the phase was skipped' : ''}.</p>`);
  const plots = [...errorPlots(phase), ...loopPlots(phase), ...seriesPlots(phase)];
  if (plots.length > 0) parts.push(`<div class="plots">${plots.join('')}</div>`);
  for (const m of phase.measurements) if (m.uncertainty !== undefined && m.uncertainty.budget.length > 0) parts.push(budgetTable(m, m.uncertainty));
  if (phase.log.length > 0) parts.push(logTable(phase));
  parts.push('</section>');
  return parts.join('\n');
}

/**
 * The one value of every item that has one, when they agree (a note above the table then says it
 * once); undefined when they differ or none has one.
 */
function common(values: readonly (string | undefined)[]): string | undefined {
  const given = values.filter((v): v is string => v !== undefined);
  const first = given[0];
  return first !== undefined && given.every((v) => v === first) ? first : undefined;
}

function measurementTable(phase: PhaseRecord): string {
  const ms = phase.measurements;
  const shared = {
    source: common(ms.map((m) => m.reference?.source)),
    basis: common(ms.map((m) => m.limits?.basis)),
    rule: common(ms.map((m) => m.decisionRule)),
  };
  const has = {
    reference: ms.some((m) => m.reference !== undefined),
    uncertainty: ms.some((m) => m.uncertainty !== undefined),
    rule: shared.rule === undefined && ms.some((m) => m.decisionRule !== undefined),
    samples: ms.some((m) => m.samples !== undefined),
  };
  const probabilities = [...new Set(ms.flatMap((m) => (m.uncertainty === undefined ? [] : [m.uncertainty.coverageProbability])))];
  const uHead = probabilities.length === 1 && Number.isFinite(probabilities[0]) ? `U (k), p ≈ ${formatNumber(probabilities[0]! * 100, 3)} %` : 'U (k)';
  const head = [
    '<th>Measurement</th><th>Value</th>',
    has.reference ? '<th>Reference</th><th>Error</th>' : '',
    '<th>Limits</th>',
    has.uncertainty ? `<th>${escapeHtml(uHead)}</th>` : '',
    has.rule ? '<th>Decision rule</th>' : '',
    '<th>Outcome</th>',
    has.samples ? '<th>n</th>' : '',
    '<th>Time</th>',
  ].join('');
  const decimals = tableDecimals(ms);
  const rows = ms.map((m) => {
    const d = derive(m, decimals.get(m.unit));
    const cells = [
      `<td><span class="mono id">${escapeHtml(m.id)}</span>${m.channel === undefined ? '' : `<div class="reason">${escapeHtml(m.channel)}</div>`}</td>`,
      `<td class="num">${escapeHtml(m.value === null ? '—' : withUnit(formatFixed(m.value, d.decimals), m.unit))}</td>`,
      has.reference ? referenceCells(m, d, shared.source === undefined) : '',
      `<td>${limitsText(m, shared.basis === undefined)}</td>`,
      has.uncertainty ? `<td class="num">${m.uncertainty === undefined ? '' : uncertaintyText(m.uncertainty, m.unit)}</td>` : '',
      has.rule ? `<td>${escapeHtml(m.decisionRule ?? '')}</td>` : '',
      `<td>${outcomeBadge(m.outcome)}${m.reason === undefined ? '' : `<div class="reason">${escapeHtml(m.reason)}</div>`}</td>`,
      has.samples ? `<td class="num">${m.samples ?? ''}</td>` : '',
      `<td class="num">${escapeHtml(formatDuration(m.time))}</td>`,
    ];
    return `<tr class="${escapeHtml(m.outcome)}" data-measurement="${escapeHtml(m.id)}">${cells.join('')}</tr>`;
  });
  const notes = [
    shared.source === undefined ? '' : `Reference: ${escapeHtml(shared.source)}.`,
    shared.basis === undefined ? '' : `Limits: ${escapeHtml(shared.basis)}.`,
    shared.rule === undefined ? '' : `Decision rule: ${escapeHtml(shared.rule)}.`,
  ].filter((n) => n !== '');
  return (
    `<table class="measurements"><caption>Measurements of ${escapeHtml(phase.name)}${notes.length === 0 ? '' : `<div class="table-note">${notes.join(' ')}</div>`}</caption>` +
    `<thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function referenceCells(m: MeasurementRecord, d: Derived, withSource: boolean): string {
  if (m.reference === undefined) return '<td></td><td></td>';
  const reference = d.reference === undefined ? withUnit(formatNumber(m.reference.value), m.reference.unit) : withUnit(formatFixed(d.reference, d.decimals), m.unit);
  const error = d.error === undefined ? '—' : withUnit(signed(formatFixed(d.error, d.decimals)), m.unit);
  const source = withSource ? `<div class="reason">${escapeHtml(m.reference.source)}</div>` : '';
  return `<td class="num">${escapeHtml(reference)}${source}</td><td class="num">${escapeHtml(error)}</td>`;
}

function limitsText(m: MeasurementRecord, withBasis: boolean): string {
  const l = m.limits;
  if (l === undefined) return '<span class="reason">none</span>';
  const low = l.low === undefined ? undefined : formatNumber(l.low);
  const high = l.high === undefined ? undefined : formatNumber(l.high);
  const text = low !== undefined && high !== undefined ? `${low} … ${high}` : low !== undefined ? `≥ ${low}` : high !== undefined ? `≤ ${high}` : 'none';
  const basis = l.basis === undefined || !withBasis ? '' : `<div class="reason">${escapeHtml(l.basis)}</div>`;
  return `<span class="nowrap">${escapeHtml(withUnit(text, l.unit))}</span>${basis}`;
}

function uncertaintyText(u: UncertaintyRecord, unit: string): string {
  const decimals = uncertaintyDecimals(u.expanded);
  return escapeHtml(`${withUnit(formatFixed(u.expanded, decimals), unit)} (k = ${formatNumber(u.coverageFactor, 3)})`);
}

function budgetTable(m: MeasurementRecord, u: UncertaintyRecord): string {
  const unit = unitLabel(m.unit);
  const decimals = uncertaintyDecimals(u.combinedStandardUncertainty) + 1;
  const rows = u.budget.map(
    (c) =>
      `<tr><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.type)}</td><td>${escapeHtml(c.distribution)}</td><td class="num">${escapeHtml(formatNumber(c.value, 4))}</td>` +
      `<td class="num">${escapeHtml(formatNumber(c.divisor, 4))}</td><td class="num">${escapeHtml(formatNumber(c.sensitivity, 4))}</td>` +
      `<td class="num">${escapeHtml(formatFixed(c.standardUncertainty, decimals))}</td><td class="num">${c.degreesOfFreedom === null ? '∞' : escapeHtml(formatNumber(c.degreesOfFreedom, 4))}</td>` +
      `<td class="num">${escapeHtml(formatNumber(c.share * 100, 3))} %</td></tr>`,
  );
  const nu = u.effectiveDegreesOfFreedom === null ? '∞' : formatNumber(u.effectiveDegreesOfFreedom, 4);
  const foot =
    `<tr><td colspan="6">Combined standard uncertainty u<sub>c</sub></td><td class="num">${escapeHtml(formatFixed(u.combinedStandardUncertainty, decimals))}</td><td class="num">${escapeHtml(nu)}</td><td class="num">100 %</td></tr>` +
    `<tr><td colspan="6">Expanded uncertainty U = k·u<sub>c</sub>, k = ${escapeHtml(formatNumber(u.coverageFactor, 3))}, coverage probability ${escapeHtml(formatNumber(u.coverageProbability * 100, 3))} %</td>` +
    `<td class="num">${escapeHtml(formatFixed(u.expanded, uncertaintyDecimals(u.expanded)))}</td><td></td><td></td></tr>`;
  return (
    `<table class="budget" data-measurement="${escapeHtml(m.id)}"><caption>Uncertainty budget of <span class="mono">${escapeHtml(m.id)}</span>${unit === '' ? '' : ` (u<sub>i</sub> in ${escapeHtml(unit)})`}</caption>` +
    `<thead><tr><th>Contribution</th><th>Type</th><th>Distribution</th><th>Value</th><th>Divisor</th><th>Sensitivity c<sub>i</sub></th><th>u<sub>i</sub></th><th>ν<sub>i</sub></th><th>Share</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody><tfoot>${foot}</tfoot></table>`
  );
}

function logTable(phase: PhaseRecord): string {
  const shown = phase.log.slice(0, LOG_LINES);
  const more = phase.log.length - shown.length;
  const rows = shown.map((e) => `<tr><td class="num">${escapeHtml(formatDuration(e.time))}</td><td>${escapeHtml(e.message)}</td></tr>`).join('');
  const tail = more > 0 ? `<tr><td></td><td class="reason">… ${more} more entries in record.json</td></tr>` : '';
  return `<table class="log"><caption>Log of ${escapeHtml(phase.name)}</caption><thead><tr><th>Time</th><th>Event</th></tr></thead><tbody>${rows}${tail}</tbody></table>`;
}

/** Error against the reference, one plot per unit with at least two limited, referenced points. */
function errorPlots(phase: PhaseRecord): string[] {
  const groups = new Map<string, ErrorPoint[]>();
  for (const m of phase.measurements) {
    if (m.limits === undefined || m.reference === undefined) continue;
    const d = derive(m);
    if (d.reference === undefined || d.error === undefined || (d.low === undefined && d.high === undefined)) continue;
    const expanded = m.uncertainty === undefined ? undefined : m.uncertainty.expanded;
    const point: ErrorPoint = {
      id: m.id,
      reference: d.reference,
      error: d.error,
      outcome: m.outcome,
      ...(expanded === undefined ? {} : { expanded }),
      ...(d.low === undefined ? {} : { low: d.low - d.reference }),
      ...(d.high === undefined ? {} : { high: d.high - d.reference }),
    };
    groups.set(m.unit, [...(groups.get(m.unit) ?? []), point]);
  }
  return [...groups]
    .filter(([, points]) => points.length >= 2)
    .map(([unit, points]) =>
      errorPlot({
        title: `${phase.name}: error against the reference, with the limits${points.some((p) => p.expanded !== undefined) ? ' and ±U' : ''}`,
        xLabel: axisLabel('Reference', unit),
        yLabel: axisLabel('Error', unit),
        points,
      }),
    );
}

/**
 * Readings against the reference (series whose axis is the reference): a hysteresis loop's up and
 * down legs, a linearity test's mean readings; one plot per measurement.
 */
function loopPlots(phase: PhaseRecord): string[] {
  const plots: string[] = [];
  for (const m of phase.measurements) {
    const legs = (m.series ?? []).filter((s) => s.axis === 'reference');
    if (legs.length === 0) continue;
    const loop = legs.some((s) => s.name === 'up') && legs.some((s) => s.name === 'down');
    plots.push(
      linePlot({
        title: `${phase.name}: ${loop ? 'hysteresis loop (up and down legs, deviation from their straight line)' : legs.map((s) => s.name).join(', ')} against the reference`,
        xLabel: axisLabel('Reference', legs[0]!.axisUnit ?? legs[0]!.unit),
        yLabel: axisLabel(`Deviation of ${m.channel ?? 'the reading'}`, legs[0]!.unit),
        lines: legs.map((s) => ({ name: s.name, pieces: [{ x: [...s.time], y: [...s.value] }] })),
      }),
    );
  }
  return plots;
}

/** Marks of a step response: t63 and t90 after the step (the `stimulus` series' first time), run ms. */
function stepMarkers(phase: PhaseRecord): { x: number; label: string }[] {
  const marks: { x: number; label: string }[] = [];
  for (const m of phase.measurements) {
    const stimulus = (m.series ?? []).find((s) => s.name === 'stimulus');
    if (stimulus === undefined || stimulus.time.length === 0 || !m.id.endsWith('-t63')) continue;
    const base = m.id.slice(0, -'-t63'.length);
    for (const suffix of ['t63', 't90'] as const) {
      const time = phase.measurements.find((candidate) => candidate.id === `${base}-${suffix}`);
      if (time?.value === null || time?.value === undefined || !Number.isFinite(time.value)) continue;
      const ms = canConvert(time.unit, 'ms') ? convert(time.value, time.unit, 'ms') : time.value;
      marks.push({ x: stimulus.time[0]! + ms, label: `${suffix} = ${formatNumber(time.value, 3)} ${time.unit}` });
    }
  }
  return marks;
}

/** Time series of the phase, one plot per unit; each measurement's series is one piece of its line. */
function seriesPlots(phase: PhaseRecord): string[] {
  const groups = new Map<string, { lines: Map<string, { x: number[]; y: number[] }[]>; channels: Set<string>; maxTime: number }>();
  const marks = stepMarkers(phase);
  for (const m of phase.measurements) {
    for (const s of m.series ?? []) {
      if (s.axis === 'reference') continue;
      const group = groups.get(s.unit) ?? { lines: new Map(), channels: new Set<string>(), maxTime: 0 };
      groups.set(s.unit, group);
      group.lines.set(s.name, [...(group.lines.get(s.name) ?? []), { x: [...s.time], y: [...s.value] }]);
      group.channels.add(m.channel ?? '');
      for (const t of s.time) if (Number.isFinite(t) && t > group.maxTime) group.maxTime = t;
    }
  }
  const drawable = [...groups].filter(([, group]) => [...group.lines.values()].some((pieces) => pieces.some((p) => p.x.some((t, i) => Number.isFinite(t) && Number.isFinite(p.y[i])))));
  return drawable.map(([unit, group]) => {
    const [timeUnit, divisor] = group.maxTime < 600_000 ? ['s', 1000] : group.maxTime < 36_000_000 ? ['min', 60_000] : ['h', 3_600_000];
    const lines: PlotLine[] = [...group.lines].map(([name, pieces]) => ({ name, pieces: pieces.map((p) => ({ x: p.x.map((t) => t / divisor), y: p.y })) }));
    const channels = [...group.channels];
    const quantity = channels.length === 1 && channels[0] !== '' ? channels[0]! : 'Value';
    const hasStep = group.lines.has('stimulus');
    return linePlot({
      title: `${phase.name}: ${lines.map((l) => l.name).join(', ')} over time${hasStep && marks.length > 0 ? ', t63 and t90 marked' : ''}`,
      xLabel: `Time since the run's start (${timeUnit})`,
      yLabel: axisLabel(quantity, unit),
      lines,
      ...(hasStep && marks.length > 0 ? { markers: marks.map((mark) => ({ x: mark.x / divisor, label: mark.label })) } : {}),
    });
  });
}

function axisLabel(quantity: string, unit: string): string {
  const label = unitLabel(unit);
  return label === '' ? quantity : `${quantity} (${label})`;
}

function signed(text: string): string {
  return text.startsWith('−') || text === '—' || /^0(\.0*)?$/.test(text) ? text : `+${text}`;
}
