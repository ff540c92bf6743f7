/**
 * `sensorkit audit-log`: the tamper-evident audit log: `verify` (the chain across rotated files,
 * and the head) and `show` (records, as lines or JSON).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { auditLogSet, verifyAuditFiles, type AuditEntry } from '../../security/audit-log.js';
import { AUDIT_CATEGORIES } from '../../security/audit/event.js';
import { findConfigFile, loadConfigFile } from '../runtime/config-file.js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_AUDIT_DIR } from '../runtime/config.js';
import { UsageError } from './usage.js';

export const AUDIT_LOG_HELP = `Usage: sensorkit audit-log <verify|show> [FILE…] [options]

The device's tamper-evident audit log: hash-chained JSON lines, rotated by size (FILE.1 the
newest rotated file), each file's first record chained to the last of the one before.

  audit-log verify FILE…   check the chain of each file, the links between them (any order) and
                           the live file's head; names the file and record of the first problem
                           (exit 1), or prints how many records verified (exit 0)
  audit-log show [FILE]    the records of FILE and its rotated files, oldest first (default: the
                           configuration's security.auditLog.file, else the one
                           log in ${DEFAULT_AUDIT_DIR}/)

Options:
  --since ISO          show: records at or after this time (e.g. 2026-03-01T08:00:00Z)
  --category NAME      show: only this category (${AUDIT_CATEGORIES.join(', ')})
  --json               show: one record a line, as stored
  --key-file FILE      the HMAC key of a keyed log (raw bytes)
  --config FILE        show: the configuration naming the log (default: ./sensorkit.config.*)
  -h, --help           show this help

Examples:
  sensorkit audit-log verify audit.log.2 audit.log.1 audit.log
  sensorkit audit-log show --since 2026-03-01T00:00:00Z --json
`;

const OPTIONS = {
  since: { type: 'string' },
  category: { type: 'string' },
  json: { type: 'boolean', default: false },
  'key-file': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Runs `sensorkit audit-log …`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await auditLogCommand(['verify', '.sensorkit/audit.log'])
 * ```
 */
export async function auditLogCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(AUDIT_LOG_HELP);
    return 0;
  }
  const [action, ...files] = positionals;
  const key = values['key-file'] === undefined ? undefined : await readKey(values['key-file']);
  switch (action) {
    case 'verify': {
      if (files.length === 0) throw new UsageError('audit-log verify: give one or more FILEs');
      const result = await verifyAuditFiles(files, key === undefined ? {} : { key });
      if (!result.ok) {
        const { file, record, reason } = result.problem!;
        process.stdout.write(`${file}: ${record === 0 ? '' : `record ${record}: `}${reason}\n`);
        return 1;
      }
      const records = result.files.reduce((n, f) => n + f.entries.length, 0);
      const first = result.files[0]?.first;
      const last = result.files[result.files.length - 1]?.last;
      process.stdout.write(
        `ok: ${records} records${first === undefined ? '' : ` (${first}–${last})`} in ${files.length} file${files.length === 1 ? '' : 's'}, chain intact` +
          (result.continues === undefined ? '' : `; the first continues record ${result.continues} of a file not given`) +
          '\n',
      );
      return 0;
    }
    case 'show': {
      if (files.length > 1) throw new UsageError(`audit-log show takes one FILE, got ${files.length}`);
      if (values.category !== undefined && !(AUDIT_CATEGORIES as readonly string[]).includes(values.category)) {
        throw new UsageError(`--category: expected one of ${AUDIT_CATEGORIES.join(', ')}, got "${values.category}"`);
      }
      const since = values.since === undefined ? undefined : Date.parse(values.since);
      if (since !== undefined && Number.isNaN(since)) throw new UsageError(`--since: expected an ISO 8601 time, got "${values.since}"`);
      const file = files[0] ?? (await configuredLog(values.config));
      const set = await auditLogSet(file);
      const result = await verifyAuditFiles(set, key === undefined ? {} : { key });
      for (const entry of result.files.flatMap((f) => f.entries)) {
        if (since !== undefined && Date.parse(entry.time) < since) continue;
        if (values.category !== undefined && entry.category !== values.category) continue;
        process.stdout.write(`${values.json ? JSON.stringify(entry) : formatEntry(entry)}\n`);
      }
      if (!result.ok) {
        const { file: bad, record, reason } = result.problem!;
        process.stderr.write(`sensorkit: audit log does not verify: ${bad}: ${record === 0 ? '' : `record ${record}: `}${reason}\n`);
        return 1;
      }
      return 0;
    }
    case undefined:
      throw new UsageError('audit-log: expected verify or show');
    default:
      throw new UsageError(`audit-log: unknown action "${action}"; expected verify or show`);
  }
}

/**
 * One record as a line: time, sequence number, category, result, event, actor, source, detail.
 *
 * @example
 * ```ts
 * formatEntry(entry) // '2026-03-01T08:00:00.000Z #12 login denied opcua.session actor=alice source=opcua {"reason":"BadUserAccessDenied"}'
 * ```
 */
export function formatEntry(entry: AuditEntry): string {
  return [
    entry.time,
    `#${entry.seq}`,
    entry.category ?? '-',
    entry.result ?? '-',
    entry.event,
    ...(entry.actor === undefined ? [] : [`actor=${entry.actor}`]),
    ...(entry.source === undefined ? [] : [`source=${entry.source}`]),
    ...(Object.keys(entry.data ?? {}).length === 0 ? [] : [JSON.stringify(entry.data)]),
  ].join(' ');
}

async function readKey(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`--key-file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

async function configuredLog(configFile: string | undefined): Promise<string> {
  const file = configFile ?? findConfigFile('.');
  if (file !== undefined) {
    const log = (await loadConfigFile(file)).config.security?.auditLog;
    if (log && log.file !== undefined) return log.file;
  }
  let logs: string[] = [];
  try {
    logs = (await readdir(DEFAULT_AUDIT_DIR)).filter((name) => name.endsWith('.log'));
  } catch {
    // No folder: no default log.
  }
  if (logs.length === 1) return join(DEFAULT_AUDIT_DIR, logs[0]!);
  throw new UsageError(logs.length === 0 ? `audit-log show: no audit log in ${DEFAULT_AUDIT_DIR}/ and none configured; give FILE` : `audit-log show: ${logs.length} logs in ${DEFAULT_AUDIT_DIR}/ (${logs.join(', ')}); give FILE`);
}
