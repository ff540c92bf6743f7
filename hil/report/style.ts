/**
 * The report's one inline style sheet: system fonts only (nothing fetched), a screen layout, and an
 * A4 print layout where tables and plots do not split across pages and outcomes keep their text
 * and borders when colour is lost.
 */
export const REPORT_CSS = `
:root { --pass: #1e7b34; --fail: #b3261e; --cond: #8a6d00; --abort: #a04d00; --muted: #5f6368; --line: #c8ccd0; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 1120px; padding: 20px 28px 40px; color: #1b1f23; background: #fff;
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 22px 0 8px; padding-bottom: 3px; border-bottom: 2px solid #1b1f23; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.subtitle { color: var(--muted); margin: 0 0 12px; }
.mono, code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11.5px; overflow-wrap: anywhere; }
.nowrap, .mono.id { white-space: nowrap; }
.table-note { font-weight: 400; color: var(--muted); font-size: 11.5px; }
.verdict { display: flex; align-items: center; gap: 18px; border: 3px solid; border-radius: 6px; padding: 10px 16px; margin: 10px 0 6px; }
.verdict .word { font-size: 30px; font-weight: 800; letter-spacing: 0.04em; }
.verdict .counts { font-size: 14px; }
.verdict.pass { border-color: var(--pass); background: #e8f4ea; color: var(--pass); }
.verdict.fail { border-color: var(--fail); background: #fbe9e7; color: var(--fail); border-style: double; border-width: 5px; }
.verdict.conditional-pass, .verdict.conditional-fail { border-color: var(--cond); background: #fdf6dc; color: var(--cond); }
.verdict.aborted, .verdict.skipped, .verdict.recorded { border-color: var(--abort); background: #fdf0e3; color: var(--abort); border-style: dashed; }
.verdict .counts { color: #1b1f23; }
.reason-line { margin: 4px 0 0; }
.signature { margin: 4px 0 10px; color: var(--muted); }
.signature.bad { color: var(--fail); font-weight: 700; }
.grid { stroke: #e3e6e8; stroke-width: 1; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px 16px; }
.card { border: 1px solid var(--line); border-radius: 4px; padding: 6px 10px; break-inside: avoid; }
.card h3 { margin: 0 0 4px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: 1px 10px; margin: 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; font-size: 12px; break-inside: auto; }
caption { text-align: left; font-weight: 600; padding: 2px 0 4px; }
th, td { border: 1px solid var(--line); padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: #f1f3f4; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: 600; background: #f8f9fa; }
.outcome { display: inline-block; min-width: 4.5em; text-align: center; font-weight: 700; font-size: 11px; padding: 1px 5px; border: 1.5px solid; border-radius: 3px; white-space: nowrap; }
.outcome.pass { color: var(--pass); background: #e8f4ea; }
.outcome.fail { color: #fff; background: var(--fail); border-color: #000; border-width: 2px; }
.outcome.conditional-pass, .outcome.conditional-fail { color: var(--cond); background: #fdf6dc; border-style: dotted; }
.outcome.aborted, .outcome.skipped { color: var(--abort); background: #fdf0e3; border-style: dashed; }
.outcome.recorded { color: var(--muted); background: #f1f3f4; }
tr.fail td { background: #fdf3f2; }
.reason { color: var(--muted); font-size: 11.5px; }
.phase { margin-top: 18px; break-before: auto; }
.phase-head { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.phase-head h3 { margin: 0; }
.phase-meta { color: var(--muted); }
.plots { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 16px; }
figure.plot { margin: 6px 0; break-inside: avoid; }
figure.plot svg { width: 100%; height: auto; display: block; }
figure.plot figcaption { color: var(--muted); font-size: 11.5px; text-align: center; }
svg text { font-family: system-ui, "DejaVu Sans", Arial, sans-serif; fill: #1b1f23; }
svg .tick { font-size: 12px; }
svg .axis-label { font-size: 13px; font-weight: 600; }
svg .legend { font-size: 12px; }
.log { font-size: 11.5px; }
.log td:first-child { white-space: nowrap; }
.statement { margin-top: 24px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 11.5px; }
.authorisation { display: grid; grid-template-columns: repeat(3, 1fr); gap: 18px; margin-top: 18px; }
.authorisation div { border-top: 1px solid #1b1f23; padding-top: 3px; font-size: 11.5px; color: var(--muted); min-height: 2.2em; }
@page { size: A4; margin: 14mm 12mm 16mm; @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9pt; } }
@media print {
  body { max-width: none; padding: 0; font-size: 9pt; }
  h1 { font-size: 16pt; }
  h2 { font-size: 12pt; break-after: avoid; }
  .phase-head, h3 { break-after: avoid; }
  .cards { grid-template-columns: repeat(3, 1fr); gap: 6px 8px; }
  .card { padding: 4px 6px; }
  table { font-size: 7.5pt; }
  th, td { padding: 2px 4px; }
  .mono, code { font-size: 7pt; }
  .mono.id, .nowrap, td.num { white-space: normal; }
  .reason, .table-note { font-size: 7pt; }
  .outcome { min-width: 0; font-size: 7pt; padding: 0 3px; }
  .plots { grid-template-columns: 1fr; }
  figure.plot svg { max-width: 560px; margin: 0 auto; }
  .verdict .word { font-size: 22pt; }
  .verdict .counts { font-size: 10pt; }
  a { color: inherit; text-decoration: none; }
}
@media screen and (max-width: 760px) { .cards { grid-template-columns: 1fr; } .plots { grid-template-columns: 1fr; } }
`;
