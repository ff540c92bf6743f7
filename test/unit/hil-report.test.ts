/**
 * report.html and summary.html as text: escaping of every record string, every measurement and
 * phase present, the verdict and its counts, plots as inline SVG with the right polylines, points
 * and markers, uncertainty budgets, rounding to U, and no script or external resource.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import type { MeasurementRecord, PhaseRecord, RunRecord } from '../../hil/record/record.js';
import { deviceDirNames, renderReport, renderSummary, stationOutcome } from '../../hil/report/index.js';
import { formatDuration, formatFixed, formatNumber } from '../../hil/report/format.js';

const FIXTURES = new URL('../fixtures/hil/', import.meta.url);
const load = (name: string): RunRecord => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as RunRecord;
const accuracy = load('record-temperature-accuracy.json');
const aborted = load('record-aborted.json');

/** The HTML of one element whose opening tag contains `marker`, up to its closing tag. */
function section(html: string, marker: string, tag: string): string {
  const start = html.indexOf(marker);
  expect(start, `no element with ${marker}`).toBeGreaterThanOrEqual(0);
  const open = html.lastIndexOf(`<${tag}`, start);
  const end = html.indexOf(`</${tag}>`, start);
  return html.slice(open, end + tag.length + 3);
}

function all(html: string, pattern: RegExp): RegExpMatchArray[] {
  return [...html.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))];
}

function withPhases(record: RunRecord, phases: PhaseRecord[]): RunRecord {
  return { ...record, phases };
}

function measurement(overrides: Partial<MeasurementRecord>): MeasurementRecord {
  return { id: 'm', value: 1, unit: 'Cel', outcome: 'pass', time: 0, ...overrides };
}

describe('renderReport', () => {
  const html = renderReport(accuracy);

  it('is one HTML document with no script and no external resource', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link|<img|<iframe|<object|@import|url\(|\ssrc=/i);
    expect(all(html, /<style>/).length).toBe(1);
    expect(html).toContain('@media print');
    expect(html).toContain('size: A4');
  });

  it('states the verdict with the counts of measurements and phases', () => {
    const verdict = section(html, 'class="verdict', 'div');
    expect(verdict).toContain('class="verdict fail"');
    expect(verdict).toContain('>FAIL<');
    expect(verdict).toContain('8 measurements: 5 pass, 1 conditional pass, 1 fail, 1 recorded');
    expect(verdict).toContain('5 phases: 3 pass, 1 fail, 1 skipped');
  });

  it('names the plan, device, target, seed, clock, instruments, context and declared truths', () => {
    for (const text of [
      'env-node temperature channel',
      accuracy.plan.digest,
      '1.0.0',
      'EN1-000417',
      'EN-1 environmental node',
      'sensorkit examples',
      'Hardware revision',
      'in-process emulated board running examples/env-node/device.ts',
      '>42<',
      'virtual, from 2026-01-01T00:00:00.000Z',
      'SIM-DMM-0042',
      'scpi-tcp:127.0.0.1:5025',
      'A. Tester',
      'bench-1',
      'Authorised by',
      'temperature offset',
      '0.0133',
    ]) {
      expect(html, text).toContain(text);
    }
  });

  it('has a table row for every measurement of every phase, with its outcome as text', () => {
    const rows = all(html, /<tr class="([a-z-]+)" data-measurement="([^"]+)">/);
    const expected = accuracy.phases.flatMap((p) => p.measurements.map((m) => [m.outcome, m.id]));
    expect(rows.map((r) => [r[1], r[2]])).toEqual(expected);
    const failRow = section(html, 'data-measurement="accuracy@72.5Cel"', 'tr');
    expect(failRow).toContain('<span class="outcome fail">FAIL</span>');
    expect(failRow).toContain('73.795 Cel above high limit 73.537 Cel');
    expect(section(html, 'data-measurement="accuracy@47.5Cel"', 'tr')).toContain('CONDITIONAL PASS');
  });

  it('rounds values, references and errors to the decimal place of U (2 significant digits)', () => {
    const row = section(html, 'data-measurement="accuracy@22.5Cel"', 'tr');
    // value 23.126, reference 22.492, U 0.1311 → U = 0.13, two decimals.
    expect(row).toContain('23.13\u00a0°C');
    expect(row).toContain('22.49\u00a0°C');
    expect(row).toContain('+0.63\u00a0°C');
    expect(row).toContain('0.13\u00a0°C (k = 2)');
    expect(row).toContain('21.492 … 23.492\u00a0°C');
    const accuracyTable = section(html, 'Measurements of Accuracy at 5 points of span', 'table');
    expect(accuracyTable).toContain('Decision rule: guard band w = U (ILAC-G8:09).');
    expect(accuracyTable).toContain('U (k), p ≈ 95 %');
  });

  it('gives skipped phases their reason', () => {
    const phase = section(html, 'id="phase-4"', 'section');
    expect(phase).toContain('SKIPPED');
    expect(phase).toContain('Skipped:</strong> no hygrometer connected (instrument role &quot;hygrometer&quot; not given)');
  });

  it('plots each accuracy window as a reading and a reference polyline with all its points', () => {
    const phase = section(html, 'id="phase-2"', 'section');
    const plot = section(phase, 'class="plot line-plot"', 'figure');
    const lines = all(plot, /<polyline class="line" data-series="([^"]+)" data-points="(\d+)"[^>]* points="([^"]+)"/);
    expect(lines).toHaveLength(10);
    expect(lines.filter((l) => l[1] === 'reading')).toHaveLength(5);
    expect(lines.filter((l) => l[1] === 'reference')).toHaveLength(5);
    const windows = accuracy.phases[1]!.measurements.flatMap((m) => m.series!.map((s) => s.value.length));
    expect(lines.map((l) => Number(l[2]))).toEqual([windows[0], windows[2], windows[4], windows[6], windows[8], windows[1], windows[3], windows[5], windows[7], windows[9]]);
    for (const l of lines) expect(l[3]!.trim().split(' ')).toHaveLength(Number(l[2]));
    expect(plot).toContain('Time since the run&#39;s start (min)');
    expect(plot).toContain('temperature (°C)');
    expect(all(plot, /class="legend-item"/)).toHaveLength(2);
  });

  it('plots the step response with the reading and the stimulus', () => {
    const phase = section(html, 'id="phase-3"', 'section');
    const lines = all(phase, /<polyline class="line" data-series="([^"]+)" data-points="(\d+)"/);
    expect(lines.map((l) => [l[1], Number(l[2])])).toEqual([
      ['reading', 301],
      ['stimulus (true temperature)', 301],
    ]);
  });

  it('plots the error against the reference with the limit band, ±U bars and a marker shape per outcome', () => {
    const phase = section(html, 'id="phase-2"', 'section');
    const plot = section(phase, 'class="plot error-plot"', 'figure');
    const markers = all(plot, /class="marker" data-id="([^"]+)" data-outcome="([^"]+)"/);
    expect(markers.map((m) => [m[1], m[2]])).toEqual(accuracy.phases[1]!.measurements.map((m) => [m.id, m.outcome]));
    expect(all(plot, /class="error-bar"/)).toHaveLength(5);
    expect(all(plot, /class="limit-band"/)).toHaveLength(1);
    expect(all(plot, /class="limit"/)).toHaveLength(2);
    expect(plot).toContain('Reference (°C)');
    expect(plot).toContain('Error (°C)');
    // the failed point is drawn as a cross (a path), the passes as circles
    expect(plot).toMatch(/<path class="marker" data-id="accuracy@72.5Cel" data-outcome="fail"/);
    expect(all(plot, /<circle class="marker"/)).toHaveLength(3);
    // no error plot where fewer than two points have a reference and limits
    expect(section(html, 'id="phase-3"', 'section')).not.toContain('error-plot');
  });

  it('writes an uncertainty budget table per measurement that has one', () => {
    const budgets = all(html, /<table class="budget" data-measurement="([^"]+)">/);
    expect(budgets.map((b) => b[1])).toEqual(accuracy.phases[1]!.measurements.map((m) => m.id));
    const table = section(html, '<table class="budget" data-measurement="accuracy@-27.5Cel">', 'table');
    expect(all(table, /<tbody>|<tr><td>/).length).toBe(1 + 4);
    for (const text of ['chamber non-uniformity', 'rectangular', '1.732', '0.0577', '76.8 %', '19', '∞', 'Combined standard uncertainty', 'coverage probability 95 %']) {
      expect(table, text).toContain(text);
    }
  });

  it('escapes every string from the record', () => {
    const evil = '<script>alert("x")</script>';
    const record: RunRecord = {
      ...accuracy,
      plan: { ...accuracy.plan, name: evil, id: '<b>id</b>' },
      device: { ...accuracy.device, serialNumber: '"><img src=x onerror=alert(1)>' },
      context: { operator: '<i>op</i>', '<u>key</u>': '<s>v</s>' },
      reason: '</div><script>1</script>',
      injected: [{ channel: '<c>', kind: '<k>', value: 1 }],
      instruments: [{ ...accuracy.instruments[0]!, model: '<svg onload=alert(1)>' }],
      phases: [
        {
          ...accuracy.phases[1]!,
          name: '<h1>phase</h1>',
          reason: '<script>r</script>',
          log: [{ time: 0, message: '<script>log</script>' }],
          measurements: accuracy.phases[1]!.measurements.map((m, i) => ({
            ...m,
            id: `<m${i}>`,
            reason: '<script>why</script>',
            decisionRule: i === 0 ? '<rule>' : 'other',
            reference: { ...m.reference!, source: `<src${i}>` },
            series: m.series!.map((s) => ({ ...s, name: `<series "${s.name}">` })),
          })),
        },
      ],
    };
    const out = renderReport(record, { title: `${evil} title`, signature: { keyId: '<key>', verified: false } });
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<img|<svg onload|<h1>phase|<b>id|<i>op|<u>key|<s>v|<c>|<k>|<m0>|<rule>|<src0>|<series|<key>/);
    expect(out).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; title');
    expect(out).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('data-series="&lt;series &quot;reading&quot;&gt;"');
    expect(out).toContain('data-measurement="&lt;m4&gt;"');
  });

  it('renders an aborted run: its reason, a missing value, no instruments, no error plot from one point', () => {
    const out = renderReport(aborted);
    expect(section(out, 'class="verdict', 'div')).toContain('>ABORTED<');
    expect(out).toContain('phase accuracy aborted: the device stopped reporting');
    expect(out).toContain('Aborted:</strong> device stopped reporting: no temperature sample for 30 s');
    const row = section(out, 'data-measurement="accuracy@-2.5Cel"', 'tr');
    expect(row).toContain('<td class="num">—</td>');
    expect(row).toContain('ABORTED');
    expect(out).toContain('No instruments');
    expect(out).not.toContain('<svg');
    expect(out).toContain('Virtual time</dt><dd>no');
  });

  it('says what the caller found about the signature, or what the record carries', () => {
    expect(renderReport(accuracy, { signature: { keyId: 'sha-256:ab', verified: true } })).toContain('signature (COSE_Sign1) verified with key <span class="mono">sha-256:ab</span>');
    expect(renderReport(accuracy, { signature: { keyId: 'sha-256:ab', verified: false } })).toContain('did NOT verify');
    expect(renderReport(accuracy, { signature: 'unsigned' })).toContain('Record not signed');
    const signed = { ...accuracy, signature: { alg: 'ES256', cose: 'x', keyId: 'sha-256:cd', publicKey: 'y' } } as RunRecord;
    expect(renderReport(signed)).toContain('Record signed (COSE_Sign1, ES256) by key <span class="mono">sha-256:cd</span>');
    expect(html).not.toContain('class="signature');
  });

  it('breaks a line at non-finite values and thins long series keeping their extremes', () => {
    const n = 20_000;
    const time = Array.from({ length: n }, (_, i) => i * 10);
    const value = time.map((_, i) => (i === 12_345 ? 50 : 20 + Math.sin(i / 100)));
    const gappy = { name: 'gappy', unit: '%RH', time: [0, 1000, 2000, 3000, 4000], value: [1, 2, Number.NaN, 4, 5] };
    const record = withPhases(accuracy, [
      { ...accuracy.phases[0]!, measurements: [measurement({ id: 'long', series: [{ name: 'long', unit: 'Cel', time, value }, gappy] })] },
    ]);
    const out = renderReport(record);
    const lines = all(out, /<polyline class="line" data-series="([^"]+)" data-points="(\d+)"[^>]* points="([^"]+)"/);
    expect(lines.map((l) => [l[1], l[2]])).toEqual([['long', expect.any(String)], ['gappy', '2'], ['gappy', '2']]);
    const long = lines[0]!;
    expect(Number(long[2])).toBeLessThan(2500);
    expect(Number(long[2])).toBeGreaterThan(500);
    const ys = long[3]!.split(' ').map((p) => Number(p.split(',')[1]));
    // The one spike to 50 °C survives the thinning, far above every other point (19…21 °C).
    const sorted = [...ys].sort((a, b) => a - b);
    expect(sorted[0]).toBeLessThan(sorted[1]! - 100);
  });

  it('converts references and limits given in another unit, and draws one-sided limits as a line', () => {
    const record = withPhases(accuracy, [
      {
        ...accuracy.phases[0]!,
        measurements: [
          measurement({ id: 'k1', value: 25.4, reference: { value: 298.15, unit: 'K', source: 'stated' }, limits: { high: 299.15, unit: 'K' } }),
          measurement({ id: 'k2', value: 50.2, reference: { value: 323.15, unit: 'K', source: 'stated' }, limits: { high: 324.15, unit: 'K' } }),
          measurement({ id: 'empty', series: [{ name: 'nothing', unit: 'Cel', time: [], value: [] }] }),
        ],
      },
    ]);
    const out = renderReport(record);
    const row = section(out, 'data-measurement="k1"', 'tr');
    expect(row).toContain('25.000\u00a0°C');
    expect(row).toContain('+0.400\u00a0°C');
    expect(row).toContain('≤ 299.15\u00a0K');
    const plot = section(out, 'class="plot error-plot"', 'figure');
    expect(all(plot, /class="limit-band"/)).toHaveLength(0);
    expect(all(plot, /class="limit"/)).toHaveLength(1);
    expect(all(plot, /class="marker"/)).toHaveLength(2);
    // a series with no points draws no plot
    expect(out).not.toContain('line-plot');
  });

  it('refuses something that is not a run record', () => {
    expect(() => renderReport({ format: 'other' } as unknown as RunRecord)).toThrow(ArgumentError);
    expect(() => renderReport(null as unknown as RunRecord)).toThrow(/sensorkit-hil-record\/1/);
  });

  it('takes a title', () => {
    expect(renderReport(accuracy, { title: 'Certificate 2026-017' })).toContain('<title>Certificate 2026-017</title>');
  });
});

describe('renderSummary', () => {
  const second: RunRecord = { ...accuracy, outcome: 'pass', device: { ...accuracy.device, serialNumber: 'EN1-000418' }, seed: 43 };
  const records = [accuracy, second, aborted];

  it('has one row per device with target, serial, verdict, counts and a link to its report', () => {
    const html = renderSummary(records);
    expect(html).not.toMatch(/<script|https?:\/\//i);
    const rows = all(html, /<tr class="([a-z-]+)" data-serial="([^"]+)">/);
    expect(rows.map((r) => [r[1], r[2]])).toEqual([
      ['fail', 'EN1-000417'],
      ['pass', 'EN1-000418'],
      ['aborted', 'EN1-000502'],
    ]);
    expect(html).toContain('<a href="EN1-000417/report.html">EN1-000417/report.html</a>');
    expect(html).toContain('<a href="EN1-000502/report.html">');
    expect(html).toContain("Each device's record.json");
    expect(html).toContain('firmata:/dev/ttyACM0');
    expect(section(html, 'data-serial="EN1-000417"', 'tr')).toContain('5 pass, 1 conditional pass, 1 fail, 1 recorded');
    const verdict = section(html, 'class="verdict', 'div');
    expect(verdict).toContain('>FAIL<');
    expect(verdict).toContain('3 devices: 1 pass, 1 fail, 1 aborted');
  });

  it('takes the folders from the caller and names duplicates apart by position', () => {
    expect(renderSummary(records, { dirs: ['a b', 'x/y', 'c'] })).toContain('<a href="a%20b/report.html">a b/report.html</a>');
    expect(deviceDirNames([accuracy, accuracy, { ...accuracy, device: { ...accuracy.device, serialNumber: '../etc' } }])).toEqual(['EN1-000417-1', 'EN1-000417-2', '__etc']);
    expect(() => renderSummary(records, { dirs: ['a'] })).toThrow(ArgumentError);
    expect(() => renderSummary([])).toThrow(ArgumentError);
  });

  it('takes the worst outcome as the station verdict and escapes record strings', () => {
    expect(stationOutcome([second, second])).toBe('pass');
    expect(stationOutcome([second, aborted])).toBe('aborted');
    expect(stationOutcome([aborted, accuracy])).toBe('fail');
    const html = renderSummary([{ ...second, device: { ...second.device, serialNumber: '<script>s</script>' } }]);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;s&lt;/script&gt;');
  });
});

describe('report formatting', () => {
  it('writes numbers, durations and units as a reader expects', () => {
    expect(formatNumber(26)).toBe('26');
    expect(formatNumber(-0.5)).toBe('−0.5');
    expect(formatNumber(101325)).toBe('101325');
    expect(formatNumber(0.000012345)).toBe('1.2345×10⁻⁵');
    expect(formatNumber(Number.NaN)).toBe('—');
    expect(formatFixed(-0.004, 2)).toBe('0.00');
    expect(formatFixed(25.31234, 3)).toBe('25.312');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_500)).toBe('12.5 s');
    expect(formatDuration(200_500)).toBe('3 min 20.5 s');
    expect(formatDuration(7_505_000)).toBe('2 h 05 min 5 s');
  });
});
