/**
 * The live table of `sensorkit run`: the latest value, unit and quality of each channel.
 */
import type { DeviceModel } from '../model/define-device.js';
import type { Sample } from '../core/sample.js';

/** Renders the table as lines of text (no colours when `color` is false). */
export function renderTable(model: DeviceModel, latest: (id: string) => Sample | undefined, color: boolean): string[] {
  const rows = model.channels.map((channel) => {
    const sample = latest(channel.id);
    return {
      channel: channel.id,
      value: sample ? formatValue(sample.value, channel.resolution) : '…',
      unit: channel.unit,
      quality: sample ? formatQuality(sample) : 'waiting',
      level: sample?.quality.level,
      time: sample ? new Date(sample.time).toISOString().slice(11, 23) : '',
    };
  });
  const header = { channel: 'CHANNEL', value: 'VALUE', unit: 'UNIT', quality: 'QUALITY', time: 'TIME (UTC)' };
  const width = (key: keyof typeof header): number => Math.max(header[key].length, ...rows.map((row) => row[key].length));
  const widths = { channel: width('channel'), value: width('value'), unit: width('unit'), quality: width('quality'), time: width('time') };
  const line = (row: typeof header, paint = (text: string) => text): string =>
    [row.channel.padEnd(widths.channel), row.value.padStart(widths.value), row.unit.padEnd(widths.unit), paint(row.quality.padEnd(widths.quality)), row.time].join('  ');
  return [
    line(header),
    ...rows.map((row) => line(row, (text) => (color ? paintQuality(text, row.level) : text))),
  ];
}

/** Decimals that a channel's resolution warrants: 0.01 → 2, 0.5 → 1, 10 → 0. */
export function decimalsFor(resolution: number): number {
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9)));
}

/** Formats a value with as many decimals as the channel's resolution warrants. */
export function formatValue(value: number | null, resolution: number): string {
  if (value === null || Number.isNaN(value)) return '—';
  return value.toFixed(decimalsFor(resolution));
}

function formatQuality(sample: Sample): string {
  return sample.quality.reason ? `${sample.quality.level} (${sample.quality.reason})` : sample.quality.level;
}

function paintQuality(text: string, level: Sample['quality']['level'] | undefined): string {
  const code = level === 'good' ? 32 : level === 'uncertain' ? 33 : level === 'bad' ? 31 : 2;
  return `\u001b[${code}m${text}\u001b[0m`;
}
