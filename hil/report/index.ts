/** The readable report: one self-contained `report.html` per run, and `summary.html` for a station. */
export { renderReport, type ReportOptions } from './report.js';
export { renderSummary, deviceDirNames, stationOutcome, type SummaryOptions } from './summary.js';
