/**
 * The runtime-backed HIL target over MQTT with mutual TLS to Mosquitto (installed here and in CI:
 * without it the test fails, it does not skip). A file of its own: node-opcua's PKI sets
 * OPENSSL_CONF for the whole process when it makes its certificates (the OPC UA tests), and openssl
 * then fails to make the test certificates.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../sdk/core/sample.js';
import { RuntimeTarget } from '../../hil/targets/runtime-target.js';
import { parseTargetSpec } from '../../hil/targets/target-spec.js';
import { makeCertificates, startBroker } from '../support/brokers.js';
import { trackedCleanups } from '../support/cleanups.js';
import { waitFor } from '../support/net.js';
import { findPeer } from '../support/peers.js';

const { cleanups, track } = trackedCleanups();

describe('RuntimeTarget over TLS', () => {
  it('mutual TLS to Mosquitto: the device and the observer present their certificate', async () => {
    if (findPeer('mosquitto') === undefined) throw new Error('Mosquitto is required for this test: apt-get install -y mosquitto');
    const certificates = makeCertificates();
    const broker = track(await startBroker('mosquitto', { tls: { certificates, requireClientCert: true } }));
    const dir = mkdtempSync(join(tmpdir(), 'sensorkit-hil-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, pem: string): string => (writeFileSync(join(dir, name), pem), join(dir, name));
    const tls = { ca: file('ca.pem', certificates.ca), cert: file('client.pem', certificates.clientCert), key: file('client.key', certificates.clientKey) };
    const target = track(new RuntimeTarget({ spec: parseTargetSpec('emulated'), device: 'examples/env-node', seed: 1, observation: 'mqtt', opcua: false, mqtt: { url: broker.url, tls } }));
    const samples: Sample[] = [];
    target.onSample((sample) => samples.push(sample));
    await target.open();
    expect(broker.url).toMatch(/^mqtts:/);
    await waitFor(() => samples.length >= 3, 15_000, 'three samples over mutual TLS');
  }, 40_000);

});
