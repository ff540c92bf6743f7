/** The readable report: one self-contained `report.html` per run, and `summary.html` for a station. */
export { renderReport, outcomeCounts, runId, type ReportOptions } from './report.js';
export { renderSummary, deviceDirNames, stationOutcome, type SummaryOptions } from './summary.js';
export { escapeHtml } from './html.js';
export { formatNumber, formatFixed, formatDuration, unitLabel, withUnit } from './format.js';
