/**
 * The records a `hil verify` argument stands for. A file is itself; a run's folder is its
 * record.json; a station run's folder (`hil run --target … --target …` or `--station`) is every
 * `<child>/record.json` found in it (a folder with summary.json is a station's, whatever else it
 * holds). summary.json is not signed, so it does not say which records
 * there are: it is checked against what is found (every listed run once, by a plain child name,
 * no record left out, outcome and serial number as the record says).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../../core/errors.js';
import type { RunRecord } from '../../../hil/record/record.js';

/** What summary.json says of one run, to compare with its record once that verifies. */
export interface SummaryClaim {
  readonly name: string;
  readonly outcome?: unknown;
  readonly serialNumber?: unknown;
}

/** The records to verify, what summary.json claims of each (by file), and what is wrong already. */
export interface RecordSet {
  readonly files: readonly string[];
  readonly claims: ReadonlyMap<string, SummaryClaim>;
  /** One line each: the summary's list and the folder disagree. */
  readonly problems: readonly string[];
}

/** A folder name `hil run` writes: the station's NAME rule, never `.` or `..`. */
const CHILD = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Child folders of `dir` that hold a record.json, sorted by name. */
async function childRecords(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if ((entry.isDirectory() || entry.isSymbolicLink()) && (await isFile(join(dir, entry.name, 'record.json')))) names.push(entry.name);
  }
  return names.sort();
}

/** Compares summary.json's list of runs with the child folders found. */
function checkSummary(dir: string, value: unknown, found: readonly string[], claims: Map<string, SummaryClaim>): string[] {
  const where = join(dir, 'summary.json');
  if (!isObject(value) || !Array.isArray(value.runs)) return [`${where}: not a run summary (no runs list)`];
  const problems: string[] = [];
  const listed = new Set<string>();
  value.runs.forEach((run: unknown, index) => {
    if (!isObject(run) || run.dir === undefined) return; // a run that could not be set up has no folder
    const name = typeof run.name === 'string' ? run.name : `runs[${index}]`;
    if (typeof run.dir !== 'string' || !CHILD.test(run.dir)) {
      problems.push(`${where}: runs[${index}] (${name}) names the folder ${JSON.stringify(run.dir)}, not a folder of this station`);
      return;
    }
    if (listed.has(run.dir)) {
      problems.push(`${where}: runs[${index}] (${name}) lists ${run.dir} a second time`);
      return;
    }
    listed.add(run.dir);
    if (!found.includes(run.dir)) {
      problems.push(`${where}: runs[${index}] (${name}) lists ${join(dir, run.dir, 'record.json')}, which is not there`);
      return;
    }
    const device = isObject(run.device) ? run.device : {};
    claims.set(join(dir, run.dir, 'record.json'), { name, outcome: run.outcome, serialNumber: device.serialNumber });
  });
  for (const child of found) if (!listed.has(child)) problems.push(`${join(dir, child, 'record.json')}: not listed in ${where}`);
  return problems;
}

/**
 * The records a path stands for: a file; a folder with record.json; or a station run's folder,
 * whose `*\/record.json` are found by listing it and compared with its summary.json. Throws
 * `StorageError` when the path cannot be read or holds no record at all.
 *
 * @example
 * ```ts
 * const { files, problems } = await recordSet('hil-runs/line-3')
 * ```
 */
export async function recordSet(path: string): Promise<RecordSet> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw new StorageError(path, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if (!isDirectory) return { files: [path], claims: new Map(), problems: [] };
  const summaryFile = join(path, 'summary.json');
  const hasSummary = existsSync(summaryFile);
  const own = join(path, 'record.json');
  // A station's folder is known by its summary: a record.json put beside it does not stand for it.
  if (!hasSummary && existsSync(own)) return { files: [own], claims: new Map(), problems: [] };
  let found: string[];
  try {
    found = await childRecords(path);
  } catch (error) {
    throw new StorageError(path, `cannot list: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if (found.length === 0 && !hasSummary) throw new StorageError(path, 'holds no record.json, and no station run (summary.json)');
  const files = found.map((child) => join(path, child, 'record.json'));
  const claims = new Map<string, SummaryClaim>();
  if (!hasSummary) return { files, claims, problems: [`${summaryFile}: missing; a station run lists its runs there`] };
  let summary: unknown;
  try {
    summary = JSON.parse(await readFile(summaryFile, 'utf8'));
  } catch (error) {
    return { files, claims, problems: [`${summaryFile}: not JSON: ${(error as Error).message.split('\n')[0]}`] };
  }
  const problems = checkSummary(path, summary, found, claims);
  if (existsSync(own)) problems.push(`${own}: a station folder has no record of its own (its records are in its run folders)`);
  if (files.length === 0 && problems.length === 0) problems.push(`${summaryFile}: lists no run with a record`);
  return { files, claims, problems };
}

/**
 * What summary.json claims of a run that its verified record contradicts, one line, or undefined.
 *
 * @example
 * ```ts
 * claimProblem({ name: 'fixture-1', outcome: 'pass' }, record) // 'summary.json says outcome pass, the record fail'
 * ```
 */
export function claimProblem(claim: SummaryClaim, record: RunRecord): string | undefined {
  if (claim.outcome !== record.outcome) return `summary.json says ${claim.name} had the outcome ${String(claim.outcome)}, the record ${record.outcome}`;
  if (claim.serialNumber !== record.device.serialNumber) return `summary.json says ${claim.name} tested serial number ${String(claim.serialNumber)}, the record ${record.device.serialNumber}`;
  return undefined;
}
