/**
 * An aggregate window that lost samples, read by an OPC UA client: motor-monitor on the emulated
 * board and the system clock (the MPU-6050's FIFO drained at 1 kHz), served over OPC UA (profile
 * dev). A 400 ms bus outage overflows the FIFO; the window it cut into is `uncertain`/`incomplete`
 * on the device, and node-opcua's client reads its value with StatusCode UncertainDataSubNormal
 * (IEC 62541-4 §7.39: an aggregate of fewer good values than required); the next window is Good.
 */
import { AttributeIds, StatusCodes, type ClientSession } from 'node-opcua';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmulatedBoard } from '../../boards/emulated/index.js';
import motorMonitor, { emulation } from '../../examples/motor-monitor/device.js';
import { SeededRandom, SystemClock } from '../../sdk/core/index.js';
import type { Sample } from '../../sdk/core/sample.js';
import { Device } from '../../sdk/device/index.js';
import { OpcuaServer } from '../../sdk/transport/opcua/index.js';
import { waitFor } from '../support/net.js';
import { connect, tempDir } from '../support/opcua-rig.js';
import { trackedCleanups } from '../support/cleanups.js';

const { cleanups } = trackedCleanups();

async function rmsNode(session: ClientSession, deviceId: string): Promise<string> {
  const index = (await session.readNamespaceArray()).indexOf('urn:sensorkit:motor-monitor');
  expect(index).toBeGreaterThan(0);
  return `ns=${index};s=${deviceId}.vibration-rms`;
}

describe('OPC UA: an aggregate window that lost samples', () => {
  it('reads as UncertainDataSubNormal through a client, and Good again on the next complete window', async () => {
    const pki = tempDir('sensorkit-opcua-incomplete-');
    cleanups.push(() => pki.remove());
    const clock = new SystemClock();
    const board = new EmulatedBoard({ definition: motorMonitor.board, clock, seed: 5 });
    emulation(board, new SeededRandom(5).fork('emulation'));
    const device = new Device(motorMonitor, { board, serialNumber: 'MM-0001' });
    const server = new OpcuaServer(device, { host: '127.0.0.1', port: 0, profile: 'dev', pkiDir: pki.path });
    await server.start();
    cleanups.push(async () => {
      await device.stop();
      await server.stop();
      await board.close();
    });
    const windows: Sample[] = [];
    device.on('sample', (sample) => void (sample.channel === 'vibration-rms' && windows.push(sample)));
    await device.start();
    const connection = await connect(server.endpointUrl, { clientPki: join(pki.path, 'client') });
    cleanups.push(() => connection.close());
    const node = await rmsNode(connection.session, `motor-monitor-MM-0001`);

    // A complete window first.
    await waitFor(() => windows.find((sample) => sample.quality.level === 'good'), 10_000, 'a complete window');
    const good = await connection.session.read({ nodeId: node, attributeId: AttributeIds.Value });
    expect(good.statusCode.value).toBe(StatusCodes.Good.value);

    // The bus stops answering for 400 ms: the 170 ms FIFO overflows and the window loses samples.
    const before = windows.length;
    board.faults.inject({ target: 'i2c0@0x68', kind: 'nak', durationMs: 400 });
    const cut = await waitFor(() => windows.slice(before).find((sample) => sample.quality.reason === 'incomplete'), 10_000, 'the incomplete window');
    const read = await connection.session.read({ nodeId: node, attributeId: AttributeIds.Value });
    // The next window comes a second later: this read is the incomplete one's.
    expect(windows[windows.length - 1]).toBe(cut);
    expect(cut.completeness!.received).toBeLessThan(cut.completeness!.expected);
    expect(cut.quality.detail).toMatch(/^completeness 0\.\d{3} \(\d+\/1000\)$/);
    expect(read.statusCode.value).toBe(StatusCodes.UncertainDataSubNormal.value);
    expect(read.statusCode.name).toBe('UncertainDataSubNormal');
    expect(read.value.value).toBeCloseTo(cut.value!, 9);
    expect(read.sourceTimestamp?.getTime()).toBe(new Date(cut.time).getTime());

    const after = windows.length;
    await waitFor(() => windows.slice(after).find((sample) => sample.quality.level === 'good'), 10_000, 'the next complete window');
    const again = await connection.session.read({ nodeId: node, attributeId: AttributeIds.Value });
    expect(again.statusCode.value).toBe(StatusCodes.Good.value);
  }, 60_000);
});
