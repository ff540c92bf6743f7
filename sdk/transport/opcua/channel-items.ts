/**
 * Channels as `AnalogItemType` variables (IEC 62541-8 §5.3.2): the value in the channel's unit,
 * `EngineeringUnits` (UNECE Rec 20, IEC 62541-8 §5.6.3), `EURange` (the measuring range),
 * `InstrumentRange` (what the part can deliver, in the channel's unit) and `ValuePrecision` (the
 * decimals the resolution warrants). Each sample sets the value with the sample time as source
 * timestamp and the quality as status code; clients filter with their own deadbands.
 */
import { DataType, StatusCode, getStatusCodeFromCode, type Namespace, type UAObject, type UAVariable } from 'node-opcua';
import { engineeringUnits } from './opcua-units.js';
import { statusCodeOf } from './opcua-status.js';
import type { ChannelModel, DeviceModel } from '../../model/define-device.js';
import type { Sample } from '../../core/sample.js';
import { converter } from '../../core/units.js';

/** Decimals a resolution warrants: 0.01 → 2, 0.5 → 1, 10 → 0. */
export function decimalsOf(resolution: number): number {
  if (!(resolution > 0)) return 0;
  return Math.min(15, Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9)));
}

/**
 * The range the part can deliver, in the channel's unit; the measuring range when the output's
 * unit does not convert (an aggregate statistic such as a crest factor).
 */
export function instrumentRange(channel: ChannelModel): { low: number; high: number } {
  const output = channel.binding.outputSpec;
  if (channel.aggregate?.statistic !== 'crest-factor') {
    try {
      const toChannel = converter(output.unit, channel.unit);
      const a = toChannel(output.range.min);
      const b = toChannel(output.range.max);
      return { low: Math.min(a, b), high: Math.max(a, b) };
    } catch {
      // fall through: units of different dimensions (a statistic that is not a value)
    }
  }
  return { low: channel.range.min, high: channel.range.max };
}

const statusCache = new Map<number, StatusCode>();

/** node-opcua's StatusCode for a 32-bit code, limit bits included (cached: few distinct codes). */
export function toStatusCode(code: number): StatusCode {
  let status = statusCache.get(code);
  if (status === undefined) {
    const base = getStatusCodeFromCode(code - (code & 0xffff));
    status = (code & 0xffff) === 0 ? base : StatusCode.makeStatusCode(base, code & 0xffff);
    statusCache.set(code, status);
  }
  return status;
}

/** The channel variables of one device. */
export class ChannelItems {
  readonly #items = new Map<string, { variable: UAVariable; channel: ChannelModel }>();

  /**
   * Adds one `AnalogItemType` per channel to `parent` (the DI `ParameterSet`).
   *
   * @example
   * ```ts
   * const items = new ChannelItems(namespace, device.parameterSet, model, 'env-node-EMU-1')
   * device.on('sample', (sample) => items.update(sample))
   * ```
   */
  constructor(namespace: Namespace, parent: UAObject, model: DeviceModel, deviceId: string) {
    for (const channel of model.channels) {
      const eu = engineeringUnits(channel.unit);
      const variable = namespace.addAnalogDataItem({
        componentOf: parent,
        browseName: channel.id,
        nodeId: `s=${deviceId}.${channel.id}`,
        description: channel.description ?? `${channel.quantity} (${channel.unit})`,
        dataType: 'Double',
        engineeringUnitsRange: { low: channel.range.min, high: channel.range.max },
        instrumentRange: instrumentRange(channel),
        engineeringUnits: { namespaceUri: eu.namespaceUri, unitId: eu.unitId, displayName: { text: eu.displayName }, description: { text: eu.description } },
        valuePrecision: decimalsOf(channel.resolution),
        // 0, "continuous" (IEC 62541-3 §5.6.2): every sample is pushed as it is taken, so a
        // monitored item reports changes as they happen instead of polling on a timer (which
        // would cost CPU and miss samples that fall between two polls).
        minimumSamplingInterval: 0,
        accessLevel: 'CurrentRead',
        userAccessLevel: 'CurrentRead',
        value: { dataType: DataType.Double, value: 0 },
      });
      // No sample yet (IEC 62541-4 §7.39: BadWaitingForInitialData).
      variable.setValueFromSource({ dataType: DataType.Null }, getStatusCodeFromCode(0x80320000));
      this.#items.set(channel.id, { variable, channel });
    }
  }

  /** The variable of a channel. */
  variable(channelId: string): UAVariable | undefined {
    return this.#items.get(channelId)?.variable;
  }

  /** Sets a channel's value from a sample: value, source timestamp and status code. */
  update(sample: Sample): void {
    const item = this.#items.get(sample.channel);
    if (item === undefined) return;
    const status = toStatusCode(statusCodeOf(sample.quality, sample.value, item.channel.range, sample.completeness));
    const value = sample.value === null ? { dataType: DataType.Null } : { dataType: DataType.Double, value: sample.value };
    item.variable.setValueFromSource(value, status, new Date(sample.time));
  }
}
