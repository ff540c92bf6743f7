/**
 * `summary.html` of a multi-device run (a test station with several fixtures): one row per device
 * with its target, serial number, verdict and counts, linking to that device's own `report.html`.
 * Self-contained like the report: inline CSS, no script, nothing fetched.
 */
import { ArgumentError } from '../../sdk/core/errors.js';
import type { Outcome, RunRecord } from '../record/record.js';
import { counted, formatDuration, OUTCOME_TEXT } from './format.js';
import { escapeHtml } from './html.js';
import { outcomeBadge } from './phase.js';
import { outcomeCounts, runId } from './report.js';
import { REPORT_CSS } from './style.js';

/** Options of {@link renderSummary}. */
export interface SummaryOptions {
  /** The summary's title; default `Station summary: <plan name>`. */
  readonly title?: string;
  /**
   * Each record's output folder, relative to the summary's folder, in the order of `records`; the
   * row links to `<dir>/report.html`. Default {@link deviceDirNames}.
   */
  readonly dirs?: readonly string[];
}

/** How bad an outcome is for a station's overall verdict: the worst device decides. */
const SEVERITY: Readonly<Record<Outcome, number>> = {
  pass: 0,
  recorded: 1,
  skipped: 2,
  'conditional-pass': 3,
  'conditional-fail': 4,
  aborted: 5,
  fail: 6,
};

/**
 * Folder names for the records of a multi-device run: the device's serial number (or id) reduced to
 * `A–Z a–z 0–9 . _ -`, with the 1-based position appended where two would be the same.
 *
 * @example
 * ```ts
 * deviceDirNames([a, b]) // ['EN-0001', 'EN-0002']
 * ```
 */
export function deviceDirNames(records: readonly RunRecord[]): string[] {
  const names = records.map((r, i) => {
    const base = (r.device.serialNumber || r.device.id || `device-${i + 1}`).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
    return base === '' ? `device-${i + 1}` : base;
  });
  return names.map((name, i) => (names.indexOf(name) !== names.lastIndexOf(name) ? `${name}-${i + 1}` : name));
}

/**
 * The overall outcome of several runs: the worst of them (fail, aborted, conditional fail,
 * conditional pass, skipped, recorded, pass).
 *
 * @example
 * ```ts
 * stationOutcome([passRecord, failRecord]) // 'fail'
 * ```
 */
export function stationOutcome(records: readonly RunRecord[]): Outcome {
  return records.reduce<Outcome>((worst, r) => (SEVERITY[r.outcome] > SEVERITY[worst] ? r.outcome : worst), 'pass');
}

/**
 * Renders the summary of a multi-device run as one self-contained HTML document.
 *
 * @example
 * ```ts
 * const records = await Promise.all(targets.map((target, i) => runTestPlan(plan, { target, seed: 1 + i })))
 * await writeFile('out/summary.html', renderSummary(records, { dirs: deviceDirNames(records) }))
 * ```
 */
export function renderSummary(records: readonly RunRecord[], options: SummaryOptions = {}): string {
  if (records.length === 0) throw new ArgumentError('Expected at least one run record, got none');
  const dirs = options.dirs ?? deviceDirNames(records);
  if (dirs.length !== records.length) throw new ArgumentError(`Expected one folder per record (${records.length}), got ${dirs.length}`);
  const plans = [...new Set(records.map((r) => `${r.plan.name} ${r.plan.version}`))];
  const title = options.title ?? `Station summary: ${plans.length === 1 ? records[0]!.plan.name : `${plans.length} plans`}`;
  const outcome = stationOutcome(records);
  const rows = records
    .map((r, i) => {
      const measurements = r.phases.flatMap((p) => p.measurements.map((m) => m.outcome));
      const href = `${dirs[i]!.split('/').map(encodeURIComponent).join('/')}/report.html`;
      return (
        `<tr class="${escapeHtml(r.outcome)}" data-serial="${escapeHtml(r.device.serialNumber)}"><td class="num">${i + 1}</td>` +
        `<td>${escapeHtml(r.target.kind)}<div class="reason">${escapeHtml(r.target.description)}</div></td>` +
        `<td>${escapeHtml(r.device.manufacturer)} ${escapeHtml(r.device.model)}<div class="reason mono">${escapeHtml(r.device.id)}</div></td>` +
        `<td class="mono">${escapeHtml(r.device.serialNumber)}</td><td>${outcomeBadge(r.outcome)}${r.reason === undefined ? '' : `<div class="reason">${escapeHtml(r.reason)}</div>`}</td>` +
        `<td>${escapeHtml(outcomeCounts(measurements))}</td><td>${escapeHtml(outcomeCounts(r.phases.map((p) => p.outcome)))}</td>` +
        `<td class="num">${escapeHtml(String(r.seed))}</td><td class="num">${escapeHtml(formatDuration(r.clock.duration))}</td>` +
        `<td><a href="${escapeHtml(href)}">${escapeHtml(`${dirs[i]!}/report.html`)}</a></td></tr>`
      );
    })
    .join('');
  const deviceCounts = outcomeCounts(records.map((r) => r.outcome));
  const signed = records.every((r) => (r as { signature?: unknown }).signature !== undefined);
  const body =
    `<header><h1>${escapeHtml(title)}</h1><p class="subtitle">Hardware-in-the-loop test station · ${escapeHtml(plans.join(', '))}</p></header>` +
    `<div class="verdict ${escapeHtml(outcome)}" role="status"><span class="word">${escapeHtml(OUTCOME_TEXT[outcome])}</span>` +
    `<span class="counts">${escapeHtml(counted(records.length, 'device'))}: ${escapeHtml(deviceCounts)}</span></div>` +
    '<h2>Devices</h2>' +
    `<table class="summary"><thead><tr><th>#</th><th>Target</th><th>Device</th><th>Serial number</th><th>Verdict</th><th>Measurements</th><th>Phases</th><th>Seed</th><th>Target time</th><th>Report</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<div class="statement"><p>Each device's ${signed ? 'signed ' : ''}record.json beside its report.html is the authoritative result. Runs: ${records.map((r) => `<span class="mono">${escapeHtml(runId(r))}</span>`).join(', ')}.</p></div>`;
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeHtml(title)}</title>\n<style>${REPORT_CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`
  );
}
