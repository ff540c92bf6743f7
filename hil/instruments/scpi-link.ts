/**
 * The line an SCPI instrument is reached over: a raw TCP socket (port 5025, the SCPI-RAW port IANA
 * registers for instruments) or a serial port, carrying `\n`-terminated messages (IEEE 488.2
 * §7.5: a program message ends with NL; a `\r` before it is tolerated). One answer line is at most
 * 64 KiB: a peer that sends more without a newline is cut off rather than buffered without bound.
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { ArgumentError } from '../../sdk/core/errors.js';
import { InstrumentError } from './errors.js';

/** The longest answer line kept, in characters. */
export const MAX_LINE = 64 * 1024;

/** Why a link ended. */
export type LinkEnd = { readonly kind: 'closed'; readonly detail: string } | { readonly kind: 'overlong' };

/** What ends a message sent to the instrument: NL (IEEE 488.2), or CR LF for instruments that need it. */
export type ScpiTerminator = '\n' | '\r\n';

/** A line-oriented duplex to an instrument. */
export interface ScpiLink {
  /** Sends one message; the link adds the terminator. */
  send(message: string): void;
  /** Called with each line received (without its terminator). */
  onLine(listener: (line: string) => void): void;
  /** Called once when the link ends (the peer closed it, an error, or `close()`). */
  onEnd(listener: (end: LinkEnd) => void): void;
  /** Closes the link. Idempotent. */
  close(): Promise<void>;
}

/**
 * A link over any byte stream (a socket, a serial port, a test's stream pair).
 *
 * @example
 * ```ts
 * const link = streamLink(await openSerialPort('/dev/ttyUSB0', 9600))
 * link.onLine((line) => console.log(line))
 * link.send('*IDN?')
 * ```
 */
export function streamLink(stream: Duplex, options: { terminator?: ScpiTerminator } = {}): ScpiLink {
  const terminator = options.terminator ?? '\n';
  if (terminator !== '\n' && terminator !== '\r\n') throw new ArgumentError(`Expected \`terminator\` to be "\\n" or "\\r\\n", got ${JSON.stringify(terminator)}`);
  const lineListeners: ((line: string) => void)[] = [];
  const endListeners: ((end: LinkEnd) => void)[] = [];
  let buffer = '';
  let ended: LinkEnd | undefined;
  const end = (why: LinkEnd): void => {
    if (ended !== undefined) return;
    ended = why;
    for (const listener of endListeners) listener(why);
  };
  stream.setEncoding?.('latin1');
  stream.on('data', (chunk: string | Buffer) => {
    buffer += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      for (const listener of lineListeners) listener(line);
    }
    if (buffer.length > MAX_LINE) {
      buffer = '';
      end({ kind: 'overlong' });
      stream.destroy();
    }
  });
  stream.on('error', (error: Error) => end({ kind: 'closed', detail: error.message }));
  stream.on('end', () => end({ kind: 'closed', detail: 'the instrument closed the connection' }));
  stream.on('close', () => end({ kind: 'closed', detail: 'the connection closed' }));
  return {
    send(message) {
      if (ended === undefined) stream.write(`${message}${terminator}`, 'latin1');
    },
    onLine(listener) {
      lineListeners.push(listener);
    },
    onEnd(listener) {
      if (ended !== undefined) listener(ended);
      else endListeners.push(listener);
    },
    close() {
      end({ kind: 'closed', detail: 'closed' });
      if (stream.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
        // A peer that never finishes its side is not waited for.
        stream.destroy();
      });
    },
  };
}

/**
 * Opens a TCP connection to an instrument; rejects with `InstrumentError` (`connect`) when it is
 * refused or does not complete within `timeoutMs`.
 *
 * @example
 * ```ts
 * const link = await openTcpLink({ host: '192.168.1.20', port: 5025, instrument: 'dmm' })
 * ```
 */
export function openTcpLink(options: { host: string; port?: number; timeoutMs?: number; instrument: string; clock?: Clock; terminator?: ScpiTerminator }): Promise<ScpiLink> {
  const port = options.port ?? 5025;
  const timeoutMs = options.timeoutMs ?? 2000;
  const clock = options.clock ?? new SystemClock({ precisionWindowMs: 0 });
  const where = { instrument: options.instrument, command: 'connect', connection: `scpi-tcp:${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}` };
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: options.host, port });
    socket.setNoDelay(true);
    const timer = clock.schedule(clock.now() + timeoutMs, () => {
      socket.destroy();
      reject(new InstrumentError('connect', where, `no connection within ${timeoutMs} ms`));
    });
    socket.once('error', (error) => {
      timer.cancel();
      reject(new InstrumentError('connect', where, error.message, { cause: error }));
    });
    socket.once('connect', () => {
      timer.cancel();
      socket.removeAllListeners('error');
      resolve(streamLink(socket, options.terminator === undefined ? {} : { terminator: options.terminator }));
    });
  });
}

/**
 * Opens a serial port (8N1, no flow control) to an instrument; rejects with `InstrumentError`
 * (`connect`) when the port cannot be opened (missing, busy, no permission).
 *
 * @example
 * ```ts
 * const link = await openSerialLink({ path: '/dev/ttyUSB0', baudRate: 9600, instrument: 'dmm' })
 * ```
 */
export async function openSerialLink(options: { path: string; baudRate?: number; instrument: string; terminator?: ScpiTerminator }): Promise<ScpiLink> {
  const baudRate = options.baudRate ?? 9600;
  const where = { instrument: options.instrument, command: 'connect', connection: `scpi-serial:${options.path}@${baudRate}` };
  // serialport's native binding loads only for serial instruments.
  const { serialLine } = await import('../../boards/firmata/serial-line.js');
  let port: Duplex;
  try {
    port = await serialLine(options.path, baudRate)();
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^cannot open serial port [^:]*: /, '') : String(error);
    throw new InstrumentError('connect', where, `cannot open the serial port: ${detail}`, { cause: error });
  }
  return streamLink(port, options.terminator === undefined ? {} : { terminator: options.terminator });
}
