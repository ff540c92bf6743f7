/**
 * What a Firmata host asked of the board, as messages to send again after a reconnect: a board that
 * was reset (a reopened USB-serial line resets an Arduino) has forgotten all of it.
 */
import { MODES, type IoPin } from '../../sdk/io/board.js';
import type { IoRead } from '../../sdk/io/io-plugin-args.js';
import type { FirmataMessage } from './protocol/messages.js';

/** The host-side state that outlives a line. */
export interface FirmataSessionState {
  readonly samplingInterval: number;
  readonly pins: readonly IoPin[];
  readonly reportedPorts: Iterable<number>;
  readonly reportingChannels: readonly number[];
  /** The I2C delay in µs, or undefined when I2C was never configured. */
  readonly i2cDelay: number | undefined;
  readonly continuousReads: readonly IoRead[];
}

/**
 * The I2C_REQUEST of a continuous read.
 *
 * @example
 * ```ts
 * continuousReadRequest({ address: 0x76, register: 0xf7, count: 8, handler }) // mode 'continuous', data [0xf7, 8]
 * ```
 */
export function continuousReadRequest(read: IoRead): FirmataMessage {
  return {
    type: 'i2c-request',
    address: read.address,
    mode: 'continuous',
    tenBit: false,
    restart: false,
    data: read.register === undefined ? [read.count] : [read.register, read.count],
  };
}

/**
 * The messages that bring a freshly reset board back to `state`, in the order a host first sent them.
 *
 * @example
 * ```ts
 * for (const message of restoreMessages(state)) connection.send(message)
 * ```
 */
export function restoreMessages(state: FirmataSessionState): FirmataMessage[] {
  const out: FirmataMessage[] = [{ type: 'sampling-interval', ms: state.samplingInterval }];
  state.pins.forEach((pin, index) => {
    if (pin.mode !== undefined && pin.mode !== MODES.ANALOG) out.push({ type: 'set-pin-mode', pin: index, mode: pin.mode });
    if (pin.mode === MODES.OUTPUT) out.push({ type: 'set-digital-pin', pin: index, value: pin.value });
  });
  for (const port of state.reportedPorts) out.push({ type: 'report-digital', port, enable: true });
  for (const channel of state.reportingChannels) out.push({ type: 'report-analog', channel, enable: true });
  if (state.i2cDelay !== undefined) out.push({ type: 'i2c-config', delayUs: state.i2cDelay });
  for (const read of state.continuousReads) out.push(continuousReadRequest(read));
  return out;
}
