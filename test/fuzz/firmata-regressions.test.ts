/** Inputs the Firmata fuzz target found, kept as plain regression tests. */
import { describe, expect, it } from 'vitest';
import { END_SYSEX, START_SYSEX, SYSEX } from '../../boards/firmata/protocol/constants.js';
import { encodeFirmata, type FirmataMessage } from '../../boards/firmata/protocol/messages.js';
import { FirmataParser, type SkipReason } from '../../boards/firmata/protocol/parser.js';

function parse(bytes: number[]): { messages: FirmataMessage[]; skips: SkipReason[] } {
  const messages: FirmataMessage[] = [];
  const skips: SkipReason[] = [];
  const parser = new FirmataParser({ role: 'board', onMessage: (m) => messages.push(m), onSkip: (reason) => skips.push(reason) });
  parser.push(bytes);
  return { messages, skips };
}

describe('EXTENDED_ANALOG value width', () => {
  it('skips as malformed a value of more than 7 groups, which would not be an exact number', () => {
    // Pin 0x77, then 120 groups of 0x7f: the value was delivered as Infinity before.
    const long = parse([START_SYSEX, SYSEX.EXTENDED_ANALOG, 0x77, ...new Array<number>(120).fill(0x7f), END_SYSEX]);
    expect(long).toEqual({ messages: [], skips: ['malformed'] });
    // Eight groups: up to 2^56 − 1, past 2^53.
    expect(parse([START_SYSEX, SYSEX.EXTENDED_ANALOG, 3, ...new Array<number>(8).fill(0x7f), END_SYSEX]).skips).toEqual(['malformed']);
  });

  it('still delivers every value of 1 to 7 groups, the largest 2^49 − 1', () => {
    for (const value of [0, 127, 16_383, 2 ** 21 - 1, 2 ** 49 - 1]) {
      expect(parse([...encodeFirmata({ type: 'extended-analog', pin: 9, value })]).messages).toEqual([{ type: 'extended-analog', pin: 9, value }]);
    }
  });
});
