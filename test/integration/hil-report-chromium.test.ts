/**
 * report.html in a real browser: headless Chromium (Debian's `chromium`) renders the report of a
 * realistic record (a 5-point temperature accuracy run with series, uncertainty budgets and one
 * failed point) to a screenshot, to its DOM and to A4 PDF. The screenshot has the asked size and is
 * far from blank; the rendered text has the verdict, the device serial and every measurement id.
 * Chromium is required here (CI installs it): a missing browser fails the test.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../hil/record/record.js';
import { renderReport, renderSummary } from '../../hil/report/index.js';
import { findPeer } from '../support/peers.js';

const FIXTURES = new URL('../fixtures/hil/', import.meta.url);
const load = (name: string): RunRecord => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as RunRecord;
const accuracy = load('record-temperature-accuracy.json');
const aborted = load('record-aborted.json');

/** Longest a single Chromium run may take before it is killed (it takes about a second here). */
const CHROMIUM_TIMEOUT_MS = 60_000;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensorkit-report-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function chromiumPath(): string {
  const path = findPeer('chromium');
  expect(path, 'headless Chromium is required to check report.html: apt-get install -y chromium').toBeDefined();
  return path!;
}

/**
 * Runs headless Chromium once with its own temporary profile (removed afterwards); kills its whole
 * process group when it outlives CHROMIUM_TIMEOUT_MS. Resolves with its stdout.
 */
async function chromium(args: readonly string[]): Promise<string> {
  const profile = tempDir();
  const child = spawn(
    chromiumPath(),
    ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-extensions', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const killGroup = (): void => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  cleanups.push(killGroup);
  const stdout: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.resume();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, CHROMIUM_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timer));
  expect(timedOut, `chromium did not finish within ${CHROMIUM_TIMEOUT_MS} ms and was killed`).toBe(false);
  expect(code, `chromium exited with ${code}`).toBe(0);
  return Buffer.concat(stdout).toString('utf8');
}

/** Width and height from a PNG's IHDR chunk (PNG §11.2.2), after checking the signature. */
function pngSize(file: string): { width: number; height: number; bytes: number } {
  const png = readFileSync(file);
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), bytes: png.length };
}

/** The text a reader sees in a dumped DOM: tags dropped, entities decoded, white space collapsed. */
function visibleText(dom: string): string {
  return dom
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;|\u00a0/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

function writeHtml(dir: string, name: string, html: string): string {
  const file = join(dir, name);
  writeFileSync(file, html);
  return pathToFileURL(file).href;
}

describe('report.html in headless Chromium', () => {
  it('renders a screenshot of the asked size that is far from blank', async () => {
    const dir = tempDir();
    const report = writeHtml(dir, 'report.html', renderReport(accuracy));
    const blank = writeHtml(dir, 'blank.html', '<!DOCTYPE html><html><body></body></html>');
    await chromium([`--screenshot=${join(dir, 'report.png')}`, '--window-size=1200,2000', report]);
    await chromium([`--screenshot=${join(dir, 'blank.png')}`, '--window-size=1200,2000', blank]);
    const shot = pngSize(join(dir, 'report.png'));
    const empty = pngSize(join(dir, 'blank.png'));
    expect([shot.width, shot.height]).toEqual([1200, 2000]);
    expect(shot.bytes).toBeGreaterThan(50_000);
    expect(shot.bytes).toBeGreaterThan(10 * empty.bytes);
  });

  it('shows the verdict, the device serial and every measurement id in the rendered DOM', async () => {
    const dir = tempDir();
    const dom = await chromium(['--dump-dom', writeHtml(dir, 'report.html', renderReport(accuracy))]);
    const text = visibleText(dom);
    expect(text).toContain('FAIL 8 measurements: 5 pass, 1 conditional pass, 1 fail, 1 recorded');
    expect(text).toContain('Serial number EN1-000417');
    for (const m of accuracy.phases.flatMap((p) => p.measurements)) expect(text, m.id).toContain(m.id);
    expect(text).toContain('no hygrometer connected');
    // The browser parsed the inline SVG: 10 accuracy windows and 2 step-response lines, 5 markers.
    expect(dom.match(/<polyline class="line"/g)).toHaveLength(12);
    expect(dom.match(/class="marker"/g)).toHaveLength(5);
  });

  it('renders an aborted run and a station summary', async () => {
    const dir = tempDir();
    const abortedText = visibleText(await chromium(['--dump-dom', writeHtml(dir, 'aborted.html', renderReport(aborted))]));
    expect(abortedText).toContain('ABORTED');
    expect(abortedText).toContain('device stopped reporting: no temperature sample for 30 s');
    const summary = visibleText(await chromium(['--dump-dom', writeHtml(dir, 'summary.html', renderSummary([accuracy, aborted]))]));
    expect(summary).toContain('FAIL 2 devices: 1 fail, 1 aborted');
    expect(summary).toContain('EN1-000417');
    expect(summary).toContain('EN1-000502');
  });

  it('prints on A4 pages', async () => {
    const dir = tempDir();
    const pdf = join(dir, 'report.pdf');
    await chromium([`--print-to-pdf=${pdf}`, '--no-pdf-header-footer', writeHtml(dir, 'report.html', renderReport(accuracy))]);
    const bytes = readFileSync(pdf).toString('latin1');
    expect(bytes.startsWith('%PDF-')).toBe(true);
    expect(statSync(pdf).size).toBeGreaterThan(20_000);
    const pages = bytes.match(/\/Type\s*\/Page\b(?!s)/g) ?? [];
    expect(pages.length).toBeGreaterThanOrEqual(3);
    // A4 is 595.28 × 841.89 pt (ISO 216)
    const boxes = [...bytes.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((m) => [Math.round(Number(m[1])), Math.round(Number(m[2]))]);
    expect(boxes.length).toBeGreaterThan(0);
    for (const box of boxes) expect(box).toEqual([595, 842]);
  });
});
