/**
 * `report.html`: one self-contained file (inline CSS and SVG, no script, nothing fetched) that
 * renders a run record for a person, on screen and printed on A4. Its contents follow the items of
 * a test report in ISO/IEC 17025 §7.8.2.1: title, identification of the run, the method (plan), the
 * item tested with its serial number, dates, the set-up (target, instruments, seed, clock), every
 * result with its unit, reference, limits, uncertainty and decision rule (§7.8.6), a statement that
 * the results relate only to the item tested, and space for the authorisation.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import { RECORD_FORMAT, type Outcome, type RunRecord } from '../record/record.js';
import { counted, formatDuration, formatNumber, OUTCOME_TEXT } from './format.js';
import { escapeHtml } from './html.js';
import { outcomeBadge, renderPhase } from './phase.js';
import { REPORT_CSS } from './style.js';

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** The report's title; default `Test report: <plan name>`. */
  readonly title?: string;
  /**
   * What the caller found checking the record's signature: the key and whether it verified, or
   * `'unsigned'`. Omitted: the report says nothing about a signature.
   */
  readonly signature?: { readonly keyId: string; readonly verified: boolean } | 'unsigned';
}

/** Outcomes in the order the report counts them. */
const ORDER: readonly Outcome[] = ['pass', 'conditional-pass', 'conditional-fail', 'fail', 'aborted', 'skipped', 'recorded'];

/**
 * Renders a run record as one self-contained HTML document.
 *
 * Every string from the record is escaped; plots are inline SVG; the document has no script and
 * no external resource, so it opens offline and can be archived beside `record.json`.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises'
 * import { renderReport } from 'sensorkit/hil'
 * await writeFile('out/report.html', renderReport(record, { signature: { keyId: 'station-7', verified: true } }))
 * ```
 */
export function renderReport(record: RunRecord, options: ReportOptions = {}): string {
  checkRecord(record);
  const title = options.title ?? `Test report: ${record.plan.name}`;
  const measurements = record.phases.flatMap((p) => p.measurements);
  const phaseIds = new Map<string, number>();
  for (const p of record.phases) phaseIds.set(p.id, (phaseIds.get(p.id) ?? 0) + 1);
  const body = [
    `<header><h1>${escapeHtml(title)}</h1>`,
    `<p class="subtitle">Hardware-in-the-loop test report · run <span class="mono">${escapeHtml(runId(record))}</span></p></header>`,
    verdict(record),
    signatureLine(options.signature, record),
    '<h2>Identification</h2>',
    identification(record),
    '<h2>Instruments</h2>',
    instruments(record),
    '<h2>Results overview</h2>',
    overview(record),
    `<h2>Results by phase</h2>`,
    record.phases.length === 0 ? '<p class="reason">The run has no phases.</p>' : record.phases.map((p, i) => renderPhase(p, i, (phaseIds.get(p.id) ?? 0) > 1)).join('\n'),
    statement(record, measurements.length),
  ].join('\n');
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<meta name="generator" content="sensorkit ${escapeHtml(record.sensorkit.version)}">\n<title>${escapeHtml(title)}</title>\n<style>${REPORT_CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`
  );
}

/**
 * Counts of outcomes as text, largest categories first in a fixed order: `13 pass, 1 fail`.
 *
 * @example
 * ```ts
 * outcomeCounts(['pass', 'pass', 'fail']) // '2 pass, 1 fail'
 * ```
 */
export function outcomeCounts(outcomes: readonly Outcome[]): string {
  const counts = new Map<Outcome, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  const parts = ORDER.filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${o.replace('-', ' ')}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/**
 * A short identification of the run: plan id, device serial number and the wall-clock start.
 *
 * @example
 * ```ts
 * runId(record) // 'env-node-temperature/EMU-7/2026-12-05T05:51:05.123Z'
 * ```
 */
export function runId(record: RunRecord): string {
  return `${record.plan.id}/${record.device.serialNumber}/${record.startedAt}`;
}

function checkRecord(record: RunRecord): void {
  const format = (record as { format?: unknown } | null)?.format;
  if (format !== RECORD_FORMAT) {
    throw new ArgumentError(`Expected a run record of format "${RECORD_FORMAT}", got ${format === undefined ? 'no format' : JSON.stringify(format)}`);
  }
}

function verdict(record: RunRecord): string {
  const measurements = record.phases.flatMap((p) => p.measurements.map((m) => m.outcome));
  const phases = record.phases.map((p) => p.outcome);
  const word = OUTCOME_TEXT[record.outcome] ?? String(record.outcome).toUpperCase();
  const reason = record.reason === undefined ? '' : `<p class="reason-line"><strong>Reason:</strong> ${escapeHtml(record.reason)}</p>`;
  return (
    `<div class="verdict ${escapeHtml(record.outcome)}" role="status"><span class="word">${escapeHtml(word)}</span>` +
    `<span class="counts">${escapeHtml(counted(measurements.length, 'measurement'))}: ${escapeHtml(outcomeCounts(measurements))}<br>` +
    `${escapeHtml(counted(phases.length, 'phase'))}: ${escapeHtml(outcomeCounts(phases))}</span></div>${reason}`
  );
}

function signatureLine(signature: ReportOptions['signature'], record: RunRecord): string {
  if (signature === undefined) {
    // A signed record.json carries a `signature` member; the report names it without checking it.
    const carried = (record as { signature?: { alg?: unknown; keyId?: unknown } }).signature;
    if (carried === undefined || typeof carried.keyId !== 'string') return '';
    return (
      `<p class="signature">Record signed (COSE_Sign1, ${escapeHtml(String(carried.alg))}) by key <span class="mono">${escapeHtml(carried.keyId)}</span>; ` +
      `check it with <code>sensorkit hil verify record.json --key PUB</code>.</p>`
    );
  }
  if (signature === 'unsigned') return '<p class="signature bad">Record not signed: its results are not protected against change.</p>';
  return signature.verified
    ? `<p class="signature">Record signature (COSE_Sign1) verified with key <span class="mono">${escapeHtml(signature.keyId)}</span>.</p>`
    : `<p class="signature bad">Record signature did NOT verify with key <span class="mono">${escapeHtml(signature.keyId)}</span>: do not rely on these results.</p>`;
}

function card(heading: string, rows: readonly (readonly [string, string | number | boolean | undefined, 'mono'?])[]): string {
  const items = rows
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([label, value, mono]) => `<dt>${escapeHtml(label)}</dt><dd${mono ? ' class="mono"' : ''}>${escapeHtml(typeof value === 'boolean' ? (value ? 'yes' : 'no') : value)}</dd>`)
    .join('');
  return `<div class="card"><h3>${escapeHtml(heading)}</h3><dl>${items}</dl></div>`;
}

function identification(r: RunRecord): string {
  const { operator, station, ...rest } = r.context ?? {};
  const context = Object.entries(rest).map(([k, v]) => [fieldLabel(k), typeof v === 'number' ? String(v) : v] as const);
  const truths = (r.injected ?? []).map((t) => [`${t.channel} ${t.kind}`, formatNumber(t.value)] as const);
  const report = r.report;
  return (
    '<div class="cards">' +
    (report === undefined
      ? ''
      : card('Report (ISO/IEC 17025 §7.8.2)', [
          ['Title', report.title],
          ['Identification', report.id, 'mono'],
          ['Laboratory', report.laboratory],
          ['Location', report.location],
          ['Customer', report.customer],
          ['Method', report.method],
          ['Item', `${report.item.description}, serial number ${report.item.serialNumber}`],
          ['Performed', `${report.performed.start} … ${report.performed.end} (target clock)`],
          ['Decision rule', report.decisionRules.length === 0 ? 'none (no result judged against limits)' : report.decisionRules.join('; ')],
          ['Authorised by', report.authorisedBy],
        ])) +
    card('Test plan (method)', [
      ['Name', r.plan.name],
      ['Id', r.plan.id, 'mono'],
      ['Version', r.plan.version],
      ['Digest', r.plan.digest, 'mono'],
      ['File', r.plan.file, 'mono'],
    ]) +
    card('Item tested', [
      ['Device', r.device.id, 'mono'],
      ['Manufacturer', r.device.manufacturer],
      ['Model', r.device.model],
      ['Serial number', r.device.serialNumber, 'mono'],
      ['Hardware revision', r.device.hardwareRevision],
      ['Software revision', r.device.softwareRevision],
    ]) +
    card('Set-up', [
      ['Target', r.target.kind],
      ['Description', r.target.description],
      ['Observation', r.target.observation],
      ['Virtual time', r.target.virtualTime],
      ['Seed', String(r.seed)],
      ['sensorkit', r.sensorkit.version],
      ['Record format', r.format, 'mono'],
    ]) +
    card('Dates and times', [
      ['Started', r.startedAt],
      ['Finished', r.finishedAt],
      ['Wall time', formatDuration(r.wallDuration)],
      ['Target clock', `${r.clock.kind}, from ${r.clock.start}`],
      ['Target time', formatDuration(r.clock.duration)],
    ]) +
    card('Context', [['Operator', operator ?? '—'], ['Station', station ?? '—'], ...context]) +
    (truths.length === 0 ? '' : card('Declared truths (injected)', truths)) +
    '</div>'
  );
}

function instruments(r: RunRecord): string {
  if (r.instruments.length === 0) return '<p class="reason">No instruments: references came from the target\'s physical inputs.</p>';
  const rows = r.instruments
    .map(
      (i) =>
        `<tr><td class="mono">${escapeHtml(i.id)}</td><td>${escapeHtml(i.manufacturer)}</td><td>${escapeHtml(i.model)}</td><td class="mono">${escapeHtml(i.serialNumber)}</td>` +
        `<td>${escapeHtml(i.firmware)}</td><td class="mono">${escapeHtml(i.connection)}</td><td>${i.simulated ? 'simulated' : 'physical'}</td></tr>`,
    )
    .join('');
  return `<table class="instruments"><thead><tr><th>Role</th><th>Manufacturer</th><th>Model</th><th>Serial number</th><th>Firmware</th><th>Connection</th><th>Kind</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** A context field's name as a label: `authorisedBy` → `Authorised by`, `ambient_rh` → `Ambient rh`. */
function fieldLabel(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function overview(r: RunRecord): string {
  const rows = r.phases
    .map(
      (p, i) =>
        `<tr class="${escapeHtml(p.outcome)}"><td><a href="#phase-${i + 1}">${i + 1}. ${escapeHtml(p.name)}</a>${p.iteration > 1 ? ` <span class="reason">(iteration ${p.iteration})</span>` : ''}</td>` +
        `<td>${outcomeBadge(p.outcome)}</td><td>${escapeHtml(outcomeCounts(p.measurements.map((m) => m.outcome)))}</td>` +
        `<td class="num">${escapeHtml(formatDuration(p.start))}</td><td class="num">${escapeHtml(formatDuration(p.duration))}</td><td>${escapeHtml(p.reason ?? '')}</td></tr>`,
    )
    .join('');
  return `<table class="overview"><thead><tr><th>Phase</th><th>Outcome</th><th>Measurements</th><th>Start</th><th>Duration</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function statement(r: RunRecord, count: number): string {
  const context = r.context ?? {};
  const authorisedBy = typeof context.authorisedBy === 'string' ? context.authorisedBy : (r.report?.authorisedBy ?? '');
  const conformity =
    r.report === undefined
      ? ''
      : `<p class="conformity" data-outcome="${escapeHtml(r.outcome)}"><strong>Statement of conformity:</strong> ${escapeHtml(r.report.statement)}` +
        `${r.report.decisionRules.length === 0 ? '' : ` <span class="reason">Decision rule (ISO/IEC 17025 §7.8.6): ${escapeHtml(r.report.decisionRules.join('; '))}; pass, conditional pass, conditional fail and fail as ILAC-G8:09 §4.2 defines them.</span>`}</p>`;
  return (
    `<div class="statement">${conformity}<p>The results relate only to the item tested, as identified above, under the conditions of this run. ` +
    `${count === 0 ? 'No measurement was recorded.' : `Values are means of the samples shown (n); errors are value − reference; U is the expanded uncertainty with its coverage factor k.`} ` +
    `Times are target time since the run's start${r.target.virtualTime ? ' (virtual clock)' : ''}. The ${(r as { signature?: unknown }).signature === undefined ? '' : 'signed '}record.json is the authoritative result; this report is a rendering of it.</p>` +
    `<div class="authorisation"><div>Operator: ${escapeHtml(context.operator ?? '')}</div><div>Authorised by: ${escapeHtml(authorisedBy)}</div><div>Date and signature:</div></div></div>`
  );
}
