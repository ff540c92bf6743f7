/**
 * The SCPI line over an in-memory stream pair: lines split and joined across chunks, CR LF, the
 * 64 KiB cap, and the driver taking two answers that arrive in one chunk (a late answer and the
 * reply to its probe).
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import { ScpiInstrument, streamLink, type LinkEnd } from '../../hil/instruments/index.js';
import { streamPair } from '../support/pty.js';

/** Lets the stream pair deliver what was written (it emits data on a later tick). */
const delivered = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function peer(end: ReturnType<typeof streamPair>[1]): { received: string[]; next: () => Promise<string> } {
  const received: string[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  end.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      received.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      waiters.splice(0).forEach((wake) => wake());
    }
  });
  let read = 0;
  return {
    received,
    async next() {
      while (read >= received.length) await new Promise<void>((resolve) => waiters.push(resolve));
      return received[read++]!;
    },
  };
}

describe('streamLink', () => {
  it('splits lines across chunks, joins them, and strips a CR before the NL', async () => {
    const [near, far] = streamPair();
    const link = streamLink(near);
    const lines: string[] = [];
    link.onLine((line) => lines.push(line));
    far.write('+1.0E');
    far.write('+00\r\n0,"No');
    far.write(' error"\nsensorkit,SIM-DMM,1,1.0\n\n');
    await delivered();
    expect(lines).toEqual(['+1.0E+00', '0,"No error"', 'sensorkit,SIM-DMM,1,1.0', '']);
  });

  it('sends with NL, or CR LF when told to; refuses another terminator', async () => {
    const [near, far] = streamPair();
    const sent: string[] = [];
    far.on('data', (chunk: Buffer) => sent.push(chunk.toString('latin1')));
    streamLink(near).send('*IDN?');
    const [near2, far2] = streamPair();
    far2.on('data', (chunk: Buffer) => sent.push(chunk.toString('latin1')));
    streamLink(near2, { terminator: '\r\n' }).send('*RST');
    await delivered();
    expect(sent).toEqual(['*IDN?\n', '*RST\r\n']);
    expect(() => streamLink(streamPair()[0], { terminator: ';' as '\n' })).toThrow(ArgumentError);
  });

  it('ends the link when a line grows past 64 KiB without its end', async () => {
    const [near, far] = streamPair();
    const link = streamLink(near);
    const ends: LinkEnd[] = [];
    link.onEnd((end) => ends.push(end));
    far.write('9'.repeat(40_000));
    await delivered();
    expect(ends).toEqual([]);
    far.write('9'.repeat(40_000));
    await delivered();
    expect(ends).toEqual([{ kind: 'overlong' }]);
  });
});

describe('ScpiInstrument on a stream', () => {
  it('a late answer and the reply to its probe in one chunk: both are used, the line stays in step', async () => {
    const [near, far] = streamPair();
    const instrument = peer(far);
    const dmm = new ScpiInstrument({ id: 'dmm', connection: 'test', link: streamLink(near), timeoutMs: 1000 });
    const identity = dmm.identify();
    expect(await instrument.next()).toBe('*IDN?');
    // The instrument answers only once the probe has come, both answers in one write.
    expect(await instrument.next()).toBe('SYST:ERR?');
    far.write('ACME,DMM-1,7,2.0\n0,"No error"\n');
    expect(await identity).toMatchObject({ manufacturer: 'ACME', model: 'DMM-1', serialNumber: '7', firmware: '2.0', simulated: false });
    // The next command is answered in step.
    const volts = dmm.measure('voltage-dc');
    expect(await instrument.next()).toBe('MEAS:VOLT:DC?');
    far.write('+2.5E+00\n');
    expect(await instrument.next()).toBe('SYST:ERR?');
    far.write('+0,"No error"\n');
    expect((await volts).value).toBe(2.5);
    expect(instrument.received).toEqual(['*IDN?', 'SYST:ERR?', 'MEAS:VOLT:DC?', 'SYST:ERR?']);
  });

  it('lines nobody asked for are dropped when the next command is sent', async () => {
    const [near, far] = streamPair();
    const instrument = peer(far);
    const dmm = new ScpiInstrument({ id: 'dmm', connection: 'test', link: streamLink(near), checkErrors: false });
    far.write('SRQ 1\nhello\n');
    await delivered();
    const answer = dmm.query('*OPC?');
    expect(await instrument.next()).toBe('*OPC?');
    far.write('1\n');
    expect(await answer).toBe('1');
  });

  it('refuses a command with a line break or an empty one', async () => {
    const dmm = new ScpiInstrument({ id: 'dmm', connection: 'test', link: streamLink(streamPair()[0]) });
    await expect(dmm.write('*RST\n*CLS')).rejects.toBeInstanceOf(ArgumentError);
    await expect(dmm.query('  ')).rejects.toBeInstanceOf(ArgumentError);
    expect(() => new ScpiInstrument({ id: 'dmm', connection: 'test', link: streamLink(streamPair()[0]), timeoutMs: 0 })).toThrow(ArgumentError);
  });
});
