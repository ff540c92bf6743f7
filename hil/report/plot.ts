/**
 * Inline SVG plots of the report, written directly (no chart library, no script): line plots of
 * time series (readings against the reference, step responses) and error plots (error against the
 * reference, with the limit band and ±U error bars). Every line also has a dash pattern and every
 * marker a shape by outcome, so a plot printed in black and white still reads.
 */
import { escapeHtml } from './html.js';
import { formatNumber } from './format.js';

/** Plot size in SVG user units; the SVG scales to the page width. */
const WIDTH = 640;
const PLOT_HEIGHT = 230;
const MARGIN = { left: 70, right: 18, top: 14, bottom: 46 } as const;
/** Above this many points a polyline keeps only the first, lowest, highest and last point of each pixel column. */
const MAX_POINTS = 1500;
/** Pieces of a line with at most this many points also get a dot at each point. */
const SHORT_PIECE = 12;

/** Line styles, in order of use: colour and dash pattern (empty: solid). */
const STYLES: readonly { readonly colour: string; readonly dash: string }[] = [
  { colour: '#1f5fa8', dash: '' },
  { colour: '#c0392b', dash: '7 4' },
  { colour: '#2e7d32', dash: '2 3' },
  { colour: '#7b3fa0', dash: '9 3 2 3' },
  { colour: '#b35c00', dash: '12 4' },
  { colour: '#455a64', dash: '1 3' },
];

/** One named line of a plot, possibly in several pieces (one per measurement window). */
export interface PlotLine {
  readonly name: string;
  readonly pieces: readonly { readonly x: readonly number[]; readonly y: readonly number[] }[];
}

/** Options of {@link linePlot}. */
export interface LinePlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly lines: readonly PlotLine[];
  /** Vertical marks at x with a label (a step response's t63 and t90). */
  readonly markers?: readonly { readonly x: number; readonly label: string }[];
}

/** One point of an error plot. */
export interface ErrorPoint {
  readonly id: string;
  /** The reference value (x). */
  readonly reference: number;
  /** value − reference (y). */
  readonly error: number;
  /** Expanded uncertainty U of the error, when known. */
  readonly expanded?: number;
  /** `pass` circle, `fail` cross, anything conditional a triangle, others a square. */
  readonly outcome: string;
  /** Lowest and highest permitted error at this reference, when limited. */
  readonly low?: number;
  readonly high?: number;
}

/** Options of {@link errorPlot}. */
export interface ErrorPlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly ErrorPoint[];
}

/**
 * An SVG line plot with axes, ticks, axis labels and a legend. Each piece of each line is one
 * `<polyline>` carrying `data-series` (the line's name) and `data-points` (its point count);
 * non-finite values break a piece in two.
 *
 * @example
 * ```ts
 * linePlot({ title: 'Step response', xLabel: 'Time (s)', yLabel: 'Temperature (°C)',
 *   lines: [{ name: 'reading', pieces: [{ x: [0, 1, 2], y: [20, 24, 25] }] }] })
 * ```
 */
export function linePlot(options: LinePlotOptions): string {
  const pieces = options.lines.flatMap((line, index) =>
    line.pieces.flatMap((piece) => finiteRuns(piece.x, piece.y).map((run) => ({ ...run, index, name: line.name }))),
  );
  const markers = (options.markers ?? []).filter((m) => Number.isFinite(m.x));
  const xs = [...pieces.flatMap((p) => p.x), ...markers.map((m) => m.x)];
  const ys = pieces.flatMap((p) => p.y);
  const frame = new Frame(range(xs), range(ys));
  const marks = markers
    .map(
      (m, i) =>
        `<line class="marker-line" data-marker="${escapeHtml(m.label)}" x1="${r(frame.px(m.x))}" x2="${r(frame.px(m.x))}" y1="${r(frame.top)}" y2="${r(frame.bottom)}" stroke="#555" stroke-width="1" stroke-dasharray="3 3"/>` +
        `<text class="marker-label" x="${r(frame.px(m.x) + 3)}" y="${r(frame.top + 12 + 12 * (i % 2))}" font-size="11" fill="#333">${escapeHtml(m.label)}</text>`,
    )
    .join('');
  const body =
    marks +
    pieces
    .map((p) => {
      const style = STYLES[p.index % STYLES.length]!;
      const points = thin(p.x.map((x) => frame.px(x)), p.y.map((y) => frame.py(y)));
      // A short piece (a few samples in a long phase) also gets a dot per point, or it would not show.
      const dots = points.length <= SHORT_PIECE ? points.map(([x, y]) => `<circle class="point" cx="${r(x)}" cy="${r(y)}" r="2.2" fill="${style.colour}"/>`).join('') : '';
      return (
        `<polyline class="line" data-series="${escapeHtml(p.name)}" data-points="${points.length}" fill="none" ` +
        `stroke="${style.colour}" stroke-width="1.6"${dash(style.dash)} points="${points.map(([x, y]) => `${r(x)},${r(y)}`).join(' ')}"/>${dots}`
      );
    })
    .join('');
  const legend = options.lines.map((line, index) => ({ name: line.name, swatch: lineSwatch(index) }));
  return svg(options.title, 'line-plot', frame, options.xLabel, options.yLabel, body, legend);
}

/**
 * An SVG error plot: error against the reference, the permitted band (shaded, dashed edges), a
 * zero line, ±U error bars and one marker per point whose shape says the outcome.
 *
 * @example
 * ```ts
 * errorPlot({ title: 'Error', xLabel: 'Reference (°C)', yLabel: 'Error (°C)',
 *   points: [{ id: 'e@0', reference: 0, error: 0.2, expanded: 0.1, outcome: 'pass', low: -1, high: 1 }] })
 * ```
 */
export function errorPlot(options: ErrorPlotOptions): string {
  const points = [...options.points].filter((p) => Number.isFinite(p.reference) && Number.isFinite(p.error)).sort((a, b) => a.reference - b.reference);
  const ys = points.flatMap((p) => [p.error - (p.expanded ?? 0), p.error + (p.expanded ?? 0), p.low ?? p.error, p.high ?? p.error, 0]);
  const frame = new Frame(range(points.map((p) => p.reference)), range(ys.filter(Number.isFinite)));
  const parts: string[] = [];
  const lows = points.filter((p) => p.low !== undefined && Number.isFinite(p.low));
  const highs = points.filter((p) => p.high !== undefined && Number.isFinite(p.high));
  if (lows.length > 0 && highs.length > 0 && lows.length === highs.length) {
    const edge = [...highs.map((p) => [frame.px(p.reference), frame.py(p.high!)]), ...[...lows].reverse().map((p) => [frame.px(p.reference), frame.py(p.low!)])];
    parts.push(`<polygon class="limit-band" fill="#e3e8ee" stroke="none" points="${edge.map(([x, y]) => `${r(x!)},${r(y!)}`).join(' ')}"/>`);
  }
  for (const edge of [highs.map((p) => [p.reference, p.high!] as const), lows.map((p) => [p.reference, p.low!] as const)]) {
    if (edge.length === 0) continue;
    const line = edge.length === 1 ? [[frame.x0, edge[0]![1]], [frame.x1, edge[0]![1]]] : edge;
    parts.push(`<polyline class="limit" fill="none" stroke="#333" stroke-width="1.2" stroke-dasharray="6 3" points="${line.map(([x, y]) => `${r(frame.px(x!))},${r(frame.py(y!))}`).join(' ')}"/>`);
  }
  parts.push(`<line class="zero" x1="${r(frame.left)}" x2="${r(frame.right)}" y1="${r(frame.py(0))}" y2="${r(frame.py(0))}" stroke="#888" stroke-width="0.8"/>`);
  for (const p of points) {
    const x = frame.px(p.reference);
    const y = frame.py(p.error);
    if (p.expanded !== undefined && Number.isFinite(p.expanded) && p.expanded > 0) {
      const top = frame.py(p.error + p.expanded);
      const bottom = frame.py(p.error - p.expanded);
      parts.push(
        `<path class="error-bar" data-id="${escapeHtml(p.id)}" stroke="#111" stroke-width="1.2" fill="none" ` +
          `d="M${r(x)},${r(top)}V${r(bottom)}M${r(x - 5)},${r(top)}H${r(x + 5)}M${r(x - 5)},${r(bottom)}H${r(x + 5)}"/>`,
      );
    }
    parts.push(marker(p, x, y));
  }
  const legend = [
    { name: 'measured error', swatch: `<circle cx="9" cy="0" r="4" fill="#1f5fa8" stroke="#111"/>` },
    { name: 'outside the limits', swatch: `<path d="M5,-4L13,4M5,4L13,-4" stroke="#c0392b" stroke-width="2.2"/>` },
    ...(points.some((p) => p.expanded !== undefined) ? [{ name: '± U', swatch: `<path d="M9,-6V6M5,-6H13M5,6H13" stroke="#111" stroke-width="1.2"/>` }] : []),
    ...(lows.length + highs.length > 0 ? [{ name: 'limits', swatch: `<rect x="0" y="-5" width="18" height="10" fill="#e3e8ee" stroke="#333" stroke-dasharray="6 3"/>` }] : []),
  ];
  return svg(options.title, 'error-plot', frame, options.xLabel, options.yLabel, parts.join(''), legend);
}

function marker(p: ErrorPoint, x: number, y: number): string {
  const common = `class="marker" data-id="${escapeHtml(p.id)}" data-outcome="${escapeHtml(p.outcome)}"`;
  const title = `<title>${escapeHtml(`${p.id}: ${p.outcome}`)}</title>`;
  if (p.outcome === 'fail') {
    return `<path ${common} stroke="#c0392b" stroke-width="2.4" fill="none" d="M${r(x - 5)},${r(y - 5)}L${r(x + 5)},${r(y + 5)}M${r(x - 5)},${r(y + 5)}L${r(x + 5)},${r(y - 5)}">${title}</path>`;
  }
  if (p.outcome.startsWith('conditional')) {
    return `<path ${common} fill="#f0c040" stroke="#111" d="M${r(x)},${r(y - 6)}L${r(x + 6)},${r(y + 5)}L${r(x - 6)},${r(y + 5)}Z">${title}</path>`;
  }
  if (p.outcome === 'pass') return `<circle ${common} cx="${r(x)}" cy="${r(y)}" r="4.5" fill="#1f5fa8" stroke="#111">${title}</circle>`;
  return `<rect ${common} x="${r(x - 4)}" y="${r(y - 4)}" width="8" height="8" fill="#fff" stroke="#111">${title}</rect>`;
}

/** Data-to-pixel mapping of one plot, with nice ticks covering the data. */
class Frame {
  readonly left = MARGIN.left;
  readonly right = WIDTH - MARGIN.right;
  readonly top = MARGIN.top;
  readonly bottom = MARGIN.top + PLOT_HEIGHT;
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly xTicks: Ticks;
  readonly yTicks: Ticks;

  constructor(x: readonly [number, number], y: readonly [number, number]) {
    this.xTicks = ticks(x[0], x[1]);
    this.yTicks = ticks(...pad(y[0], y[1]));
    [this.x0, this.x1] = [this.xTicks.values[0]!, this.xTicks.values.at(-1)!];
    [this.y0, this.y1] = [this.yTicks.values[0]!, this.yTicks.values.at(-1)!];
  }

  px(x: number): number {
    return this.left + ((x - this.x0) / (this.x1 - this.x0)) * (this.right - this.left);
  }

  py(y: number): number {
    return this.bottom - ((y - this.y0) / (this.y1 - this.y0)) * (this.bottom - this.top);
  }
}

interface Ticks {
  readonly values: readonly number[];
  readonly decimals: number;
}

/** Five to seven ticks at 1, 2 or 5 × 10ⁿ, the first at or below `min` and the last at or above `max`. */
function ticks(min: number, max: number): Ticks {
  if (min === max) [min, max] = [min - 1, max + 1];
  const power = Math.pow(10, Math.floor(Math.log10((max - min) / 7)));
  let step = 10 * power;
  for (const m of [1, 2, 5]) {
    if (Math.ceil(max / (m * power) - 1e-9) - Math.floor(min / (m * power) + 1e-9) <= 7) {
      step = m * power;
      break;
    }
  }
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(i === 0 ? 0 : i * step);
  if (values.length < 2) values.push((last + 1) * step);
  return { values, decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
}

function svg(title: string, kind: string, frame: Frame, xLabel: string, yLabel: string, body: string, legend: readonly { name: string; swatch: string }[]): string {
  const rows = layoutLegend(legend.map((l) => l.name));
  const height = frame.bottom + MARGIN.bottom + rows.length * 18;
  const grid: string[] = [];
  for (const v of frame.yTicks.values) {
    const y = frame.py(v);
    grid.push(`<line x1="${r(frame.left)}" x2="${r(frame.right)}" y1="${r(y)}" y2="${r(y)}" class="grid"/>`);
    grid.push(`<text x="${r(frame.left - 6)}" y="${r(y + 4)}" text-anchor="end" class="tick">${tickLabel(v, frame.yTicks.decimals)}</text>`);
  }
  for (const v of frame.xTicks.values) {
    const x = frame.px(v);
    grid.push(`<line x1="${r(x)}" x2="${r(x)}" y1="${r(frame.bottom)}" y2="${r(frame.bottom + 5)}" stroke="#333"/>`);
    grid.push(`<text x="${r(x)}" y="${r(frame.bottom + 18)}" text-anchor="middle" class="tick">${tickLabel(v, frame.xTicks.decimals)}</text>`);
  }
  const axes =
    `<rect x="${r(frame.left)}" y="${r(frame.top)}" width="${r(frame.right - frame.left)}" height="${r(frame.bottom - frame.top)}" fill="none" stroke="#333"/>` +
    `<text x="${r((frame.left + frame.right) / 2)}" y="${r(frame.bottom + 36)}" text-anchor="middle" class="axis-label">${escapeHtml(xLabel)}</text>` +
    `<text transform="translate(16 ${r((frame.top + frame.bottom) / 2)}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeHtml(yLabel)}</text>`;
  const legendSvg = rows
    .map((row, i) =>
      row
        .map(({ index, offset }) => {
          const item = legend[index]!;
          const y = frame.bottom + MARGIN.bottom + 6 + i * 18;
          return `<g class="legend-item" transform="translate(${r(frame.left + offset)} ${r(y)})">${item.swatch}<text x="24" y="4" class="legend">${escapeHtml(item.name)}</text></g>`;
        })
        .join(''),
    )
    .join('');
  return (
    `<figure class="plot ${kind}"><svg viewBox="0 0 ${WIDTH} ${r(height)}" role="img" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title>` +
    grid.join('') +
    `<g class="data">${body}</g>` +
    axes +
    legendSvg +
    `</svg><figcaption>${escapeHtml(title)}</figcaption></figure>`
  );
}

/** Places legend entries left to right, wrapping at the plot's width (about 7 units a character). */
function layoutLegend(names: readonly string[]): { index: number; offset: number }[][] {
  const rows: { index: number; offset: number }[][] = [[]];
  let offset = 0;
  names.forEach((name, index) => {
    const width = 24 + Math.min(name.length, 60) * 7 + 18;
    if (offset > 0 && offset + width > WIDTH - MARGIN.left - MARGIN.right) {
      rows.push([]);
      offset = 0;
    }
    rows.at(-1)!.push({ index, offset });
    offset += width;
  });
  return rows[0]!.length === 0 ? [] : rows;
}

function lineSwatch(index: number): string {
  const style = STYLES[index % STYLES.length]!;
  return `<line x1="0" x2="18" y1="0" y2="0" stroke="${style.colour}" stroke-width="2"${dash(style.dash)}/>`;
}

function dash(pattern: string): string {
  return pattern === '' ? '' : ` stroke-dasharray="${pattern}"`;
}

function tickLabel(v: number, decimals: number): string {
  const magnitude = Math.abs(v);
  if (magnitude !== 0 && (magnitude >= 1e7 || magnitude < 1e-4)) return escapeHtml(formatNumber(v, 4));
  const text = v.toFixed(Math.min(decimals, 12));
  return text.startsWith('-') && !/^-0(\.0*)?$/.test(text) ? `−${text.slice(1)}` : text.replace(/^-/, '');
}

/** Splits a series into runs of finite points. */
function finiteRuns(xs: readonly number[], ys: readonly number[]): { x: number[]; y: number[] }[] {
  const runs: { x: number[]; y: number[] }[] = [];
  let current: { x: number[]; y: number[] } | undefined;
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    if (typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y)) {
      if (current === undefined) runs.push((current = { x: [], y: [] }));
      current.x.push(x);
      current.y.push(y);
    } else {
      current = undefined;
    }
  }
  return runs;
}

/** Thins a long line to at most four points a pixel column (first, lowest, highest, last): the shape and every extreme stay. */
function thin(xs: readonly number[], ys: readonly number[]): [number, number][] {
  const all = xs.map((x, i) => [x, ys[i]!] as [number, number]);
  if (all.length <= MAX_POINTS) return all;
  const out: [number, number][] = [];
  let column: [number, number][] = [];
  const flush = (): void => {
    if (column.length === 0) return;
    const byY = [...column].sort((a, b) => a[1] - b[1]);
    const keep = new Set([column[0]!, byY[0]!, byY.at(-1)!, column.at(-1)!]);
    out.push(...column.filter((p) => keep.has(p)));
    column = [];
  };
  for (const p of all) {
    if (column.length > 0 && Math.floor(p[0]) !== Math.floor(column[0]![0])) flush();
    column.push(p);
  }
  flush();
  return out;
}

function range(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Widens a range by 5 % each side (or ±1, ±5 % of the value, when it is a single value). */
function pad(min: number, max: number): [number, number] {
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.05;
    return [min - d, max + d];
  }
  const d = (max - min) * 0.05;
  return [min - d, max + d];
}

function r(v: number): string {
  return String(Math.round(v * 10) / 10);
}
