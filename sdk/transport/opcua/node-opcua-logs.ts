/**
 * node-opcua's warnings and errors go to standard output by default, which would corrupt what a
 * command prints there (`sensorkit run --json`, `sensorkit model --format nodeset`). This routes
 * them to a sink of the caller's choice (the CLI: standard error), one line each.
 *
 * Lines a client can fill (an endpoint URL, a token dump) are cut to 300 characters with control
 * characters escaped, and the warning each session of a client asking for another host name gives
 * ("Cannot find suitable endpoints …") is told once, as a note.
 *
 * Its PKCS#1 v1.5 self-test warning on Node 20 (NODE-OPCUA-W27) is dropped: none of the policies
 * sensorkit offers uses PKCS#1 v1.5 (Basic256Sha256 and Aes128_Sha256_RsaOaep use RSA-OAEP,
 * Aes256_Sha256_RsaPss uses RSA-OAEP-256 and PSS).
 */
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import { cut } from '../../core/check.js';

/**
 * Sends node-opcua's warning and error lines to `write`.
 *
 * @example
 * ```ts
 * routeNodeOpcuaLogs((line) => process.stderr.write(`${line}\n`))
 * ```
 */
export function routeNodeOpcuaLogs(write: (line: string) => void): void {
  let droppingW27 = false;
  let urlMismatchReported = false;
  const route = (level: string) => (_context?: unknown, ...args: unknown[]) => {
    const text = args.map((arg) => (typeof arg === 'string' ? arg : String(arg))).join(' ').trim();
    // W27 comes as two calls: the code, then its advice on the next line.
    if (text.includes('NODE-OPCUA-W27')) return void (droppingW27 = true);
    if (droppingW27 && text.includes('security-revert')) return void (droppingW27 = false);
    droppingW27 = false;
    if (text.startsWith(URL_MISMATCH)) {
      if (urlMismatchReported) return;
      urlMismatchReported = true;
      const url = text.slice(text.indexOf('=') + 1).trim();
      return void write(`opcua note: a client asked for ${JSON.stringify(cut(url))}, which names no host of the server's endpoints; it is served them anyway (IEC 62541-4 §5.6.2; told once)`);
    }
    for (const line of text.split('\n')) if (line.trim() !== '') write(`opcua ${level}: ${shortened(printable(line.trimEnd()))}`);
  };
  setWarningLogger(route('warning'));
  setErrorLogger(route('error'));
}

/**
 * node-opcua's warning at each CreateSession whose endpoint URL names another host than the
 * server's endpoints (a client that connects by IP address or through a tunnel): harmless, since
 * the server answers with its endpoints, and the URL is the client's to choose.
 */
const URL_MISMATCH = 'Cannot find suitable endpoints in available endpoints.';

/** Characters of one routed line at most: a dump of a token or buffer is not a log line. */
const MAX_LINE = 300;

function shortened(line: string): string {
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE)}… (${line.length} characters)`;
}

/** Colour codes removed, other control characters and bytes a client chose shown as escapes. */
function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;]*m/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
