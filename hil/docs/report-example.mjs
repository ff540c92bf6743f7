/**
 * Renders the README's picture of report.html: a run record (or an existing report.html) through
 * headless Chromium into a PNG. Run from the repository's root:
 *
 *   node --import ./bin/register-ts.js hil/docs/report-example.mjs [RECORD.json | report.html] [OUT.png]
 *
 * Defaults: test/fixtures/hil/record-temperature-accuracy.json → hil/docs/report-example.png, a
 * 1200 × 1600 px picture of the top of the report (CSS viewport 1500 × 2000 at a scale of 0.8).
 * Chromium gets its own temporary profile, removed afterwards, and is killed after 60 s.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderReport } from '../report/index.ts';

const input = resolve(process.argv[2] ?? 'test/fixtures/hil/record-temperature-accuracy.json');
const output = resolve(process.argv[3] ?? 'hil/docs/report-example.png');
const browser = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
if (browser === undefined) {
  console.error('report-example: headless Chromium is needed (apt-get install -y chromium)');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'sensorkit-report-example-'));
try {
  let page = input;
  if (input.endsWith('.json')) {
    page = join(work, 'report.html');
    writeFileSync(page, renderReport(JSON.parse(readFileSync(input, 'utf8'))));
  }
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-extensions',
    '--hide-scrollbars', `--user-data-dir=${join(work, 'profile')}`, '--force-device-scale-factor=0.8', '--window-size=1500,2000',
    `--screenshot=${output}`, pathToFileURL(page).href,
  ];
  const child = spawn(browser, args, { stdio: 'ignore', detached: true });
  const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 60_000);
  const code = await new Promise((done) => child.once('close', done));
  clearTimeout(timer);
  if (code !== 0) {
    console.error(`report-example: chromium exited with ${code}`);
    process.exitCode = 1;
  } else {
    console.log(`${output}: ${statSync(output).size} bytes`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
