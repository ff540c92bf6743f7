/**
 * JUnit XML of run records: one test case per measurement, failures with value, unit and limit,
 * aborted phases as errors, skipped as skipped, conditional outcomes per option; the XML is checked
 * well-formed by xmllint (Debian libxml2-utils, installed in CI).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RECORD_FORMAT, junitXml, xmlEscape, type MeasurementRecord, type PhaseRecord, type RunRecord } from '../../hil/record/index.js';

function measurement(id: string, value: number | null, outcome: MeasurementRecord['outcome'], extra: Partial<MeasurementRecord> = {}): MeasurementRecord {
  return { id, channel: 'temperature', value, unit: 'Cel', limits: { low: 24, high: 26, unit: 'Cel', basis: 'MPE ±1 Cel' }, outcome, time: 1000, ...extra };
}

function phase(id: string, outcome: PhaseRecord['outcome'], measurements: MeasurementRecord[], extra: Partial<PhaseRecord> = {}): PhaseRecord {
  return { id, name: id, iteration: 1, outcome, start: 0, duration: 2500, measurements, log: [{ time: 5, message: 'set <25> & "go"' }], ...extra };
}

function record(phases: PhaseRecord[], extra: Partial<RunRecord> = {}): RunRecord {
  return {
    format: RECORD_FORMAT,
    plan: { id: 'plan-1', name: 'Plan & <one>', version: '1', digest: 'sha-256:00' },
    target: { kind: 'emulated', description: 'emulated', observation: 'in-process', virtualTime: true },
    device: { id: 'env-node', manufacturer: 'M', model: 'EN-1', serialNumber: 'EMU-1' },
    sensorkit: { version: '0.1.0' },
    instruments: [],
    seed: 3,
    clock: { kind: 'virtual', start: '2024-01-01T00:00:00.000Z', duration: 10_000 },
    context: {},
    startedAt: '2026-01-01T10:00:00.123Z',
    finishedAt: '2026-01-01T10:00:01.000Z',
    wallDuration: 877,
    outcome: 'fail',
    phases,
    ...extra,
  };
}

/** Parses with xmllint: throws when the document is not well-formed; returns the result of an XPath. */
function xpath(xml: string, expression: string): string {
  return execFileSync('xmllint', ['--xpath', expression, '-'], { input: xml }).toString().replace(/\n$/, '');
}

describe('junitXml', () => {
  const mixed = record([
    phase('accuracy', 'fail', [
      measurement('error@25Cel', 25.03, 'pass'),
      measurement('error@40Cel', 27.3, 'fail', { reason: '27.3 Cel above high limit 26 Cel' }),
      measurement('cp', 25.9, 'conditional-pass'),
      measurement('cf', 26.1, 'conditional-fail'),
    ]),
    phase('outage', 'aborted', [measurement('before', 25, 'pass')], { reason: 'device stopped reporting: no sample of temperature for 30 s' }),
    phase('humidity', 'skipped', [], { reason: 'no humidity reference' }),
  ]);

  it('writes one test case per measurement with classname plan.phase and the measurement id', () => {
    const xml = junitXml(mixed);
    expect(xml).toContain('<testcase classname="plan-1.accuracy" name="error@25Cel" time="0.000">');
    expect(xml.match(/<testcase /g)).toHaveLength(7);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="Plan &amp; &lt;one&gt;" tests="7" failures="2" errors="1" skipped="1"/);
  });

  it('puts the measured value, unit and limit in a failure', () => {
    const xml = junitXml(mixed);
    expect(xml).toContain('<failure message="27.3 Cel above high limit 26 Cel: measured 27.3 Cel; limits [24, 26] Cel (MPE ±1 Cel)" type="limit">');
    expect(xml).toContain('measured: 27.3 Cel');
  });

  it('reports an aborted phase as an error with its reason and a skipped phase as skipped', () => {
    const xml = junitXml(mixed);
    expect(xml).toContain('<testcase classname="plan-1.outage" name="(phase outage)" time="2.500">\n      <error message="phase aborted: device stopped reporting: no sample of temperature for 30 s" type="aborted">');
    expect(xml).toContain('<skipped message="phase skipped: no humidity reference"/>');
  });

  it('maps conditional outcomes per option: by default conditional-fail fails and conditional-pass passes', () => {
    const byDefault = junitXml(mixed);
    expect(byDefault).toMatch(/name="cf" time="0.000">\n {6}<failure/);
    expect(byDefault).toMatch(/name="cp" time="0.000">\n {6}<system-out>/);
    const strict = junitXml(mixed, { conditionalPass: 'fail' });
    expect(strict).toMatch(/name="cp" time="0.000">\n {6}<failure/);
    const lenient = junitXml(mixed, { conditionalFail: 'pass' });
    expect(lenient).toMatch(/name="cf" time="0.000">\n {6}<system-out>/);
  });

  it("takes the plan's recorded conditionalOutcomes as the default; options still override", () => {
    const strictPlan: RunRecord = { ...mixed, conditionalOutcomes: { pass: 'fail', fail: 'fail' } };
    const xml = junitXml(strictPlan);
    expect(xml).toMatch(/name="cp" time="0.000">\n {6}<failure/);
    expect(xml).toMatch(/^<testsuites name="[^"]*" tests="7" failures="3"/m);
    const lenientPlan: RunRecord = { ...mixed, conditionalOutcomes: { fail: 'pass' } };
    expect(junitXml(lenientPlan)).toMatch(/name="cf" time="0.000">\n {6}<system-out>/);
    expect(junitXml(lenientPlan)).toMatch(/name="cp" time="0.000">\n {6}<system-out>/);
    const overridden = junitXml(strictPlan, { conditionalPass: 'pass' });
    expect(overridden).toMatch(/name="cp" time="0.000">\n {6}<system-out>/);
    expect(overridden).toMatch(/name="cf" time="0.000">\n {6}<failure/);
  });

  it('tells the iterations of a repeated phase apart', () => {
    const xml = junitXml(record([phase('cycle', 'pass', [measurement('m', 25, 'pass')]), phase('cycle', 'pass', [measurement('m', 25.1, 'pass')], { iteration: 2 }), phase('once', 'pass', [])]));
    expect(xml).toContain('<testsuite name="plan-1.cycle#1"');
    expect(xml).toContain('<testcase classname="plan-1.cycle#2" name="m"');
    expect(xml).toContain('<testsuite name="plan-1.once"');
  });

  it('reports a run aborted before any phase as one error', () => {
    const xml = junitXml(record([], { outcome: 'aborted', reason: 'target did not answer' }));
    expect(xml).toContain('<error message="run aborted: target did not answer" type="aborted">');
  });

  it('escapes markup and characters XML 1.0 cannot carry', () => {
    expect(xmlEscape('a<b>&"\'\t\n\r')).toBe('a&lt;b&gt;&amp;&quot;&apos;&#9;&#10;&#13;');
    expect(xmlEscape('nul\u0000 bell\u0007 lone\ud800 ffff\uffff ok😀')).toBe('nul\\u0000 bell\\u0007 lone\\ud800 ffff\\uffff ok😀');
  });

  it('is well-formed XML (xmllint), with hostile names and reasons', () => {
    const hostile = record([
      phase('p]]><x>', 'aborted', [measurement('m"<&>\u0001', null, 'fail', { reason: 'bad ]]> \u0000 "quote"\nnext line' })], { reason: '<script>&' }),
    ]);
    for (const xml of [junitXml(mixed), junitXml(hostile)]) {
      expect(xpath(xml, 'count(//testcase)')).toMatch(/^\d+$/);
    }
    expect(xpath(junitXml(hostile), 'string(//testcase[1]/@name)')).toBe('m"<&>\\u0001');
    expect(xpath(junitXml(hostile), 'string(//failure/@message)')).toBe('bad ]]> \\u0000 "quote"\nnext line: measured no value; limits [24, 26] Cel (MPE ±1 Cel)');
    expect(xpath(junitXml(mixed), 'string(//testsuite[1]/@timestamp)')).toBe('2026-01-01T10:00:00');
  });
});
