/**
 * A run's output folder: `record.json` (signed when a key is given), `junit.xml` for CI and
 * `report.html` for people. Each file is written to a temporary name and renamed into place, so a
 * reader never sees half a record.
 */
import type { KeyObject } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../../sdk/core/errors.js';
import { renderReport, type ReportOptions } from '../report/index.js';
import { junitXml, type JunitOptions } from './junit.js';
import type { RunRecord } from './record.js';
import { recordText, signRecord, type SignedRecord } from './sign.js';

/** Options of {@link writeRunOutput}. */
export interface RunOutputOptions {
  /** Private key (P-256 or Ed25519) that signs `record.json`; without it the record is unsigned. */
  readonly key?: KeyObject;
  /** How conditional outcomes count in `junit.xml`. */
  readonly junit?: JunitOptions;
  /** Renders `report.html` (default: `renderReport` of `sensorkit/hil`, told whether the record is signed). */
  readonly renderReport?: (record: RunRecord, options: ReportOptions) => string;
}

/** What {@link writeRunOutput} wrote. */
export interface RunOutput {
  /** The record as written: signed when a key was given. */
  readonly record: RunRecord | SignedRecord;
  readonly files: { readonly record: string; readonly junit: string; readonly report: string };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    throw new StorageError(file, `cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

/**
 * Writes `dir/record.json`, `dir/junit.xml` and `dir/report.html` (creating `dir`), the record
 * signed with `options.key` when there is one.
 *
 * @example
 * ```ts
 * const record = await runTestPlan(plan, { target, seed: 1 })
 * const { files } = await writeRunOutput('out', record, { key: await readPrivateKey('keys/private.pem') })
 * console.log(files.record) // 'out/record.json'
 * ```
 */
export async function writeRunOutput(dir: string, record: RunRecord, options: RunOutputOptions = {}): Promise<RunOutput> {
  const render = options.renderReport ?? renderReport;
  const signed = options.key === undefined ? undefined : signRecord(record, options.key);
  const written = signed ?? record;
  // Signed here, with the key in hand: the report can say the signature holds.
  const signature: ReportOptions['signature'] = signed === undefined ? 'unsigned' : { keyId: signed.signature.keyId, verified: true };
  const files = { record: join(dir, 'record.json'), junit: join(dir, 'junit.xml'), report: join(dir, 'report.html') };
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new StorageError(dir, `cannot create the output folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  await writeAtomically(files.record, recordText(written));
  await writeAtomically(files.junit, junitXml(record, options.junit));
  await writeAtomically(files.report, render(written, { signature }));
  return { record: written, files };
}
