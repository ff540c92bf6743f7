/**
 * The update server's campaign helpers: poll jitter (deterministic per device and tag, spread
 * within ±20 %), the payloads an envelope names and the check that they are in the artefact store
 * with their signed sizes, and the device id rule the APIs share.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { signEnvelope } from '../../ota/manifest/index.js';
import { checkPayloads, payloadsOf } from '../../ota/server/admin-api.js';
import { openArtefactStore } from '../../ota/server/artefacts/index.js';
import { checkDeviceId, pollAfterS } from '../../ota/server/device-api.js';
import { envelopeFor, makeImage, makeKey, manifestFor } from '../support/ota-fixtures.js';

const key = makeKey();
const image = makeImage(4096, 2);
const devices = Array.from({ length: 2000 }, (_, i) => `en-1-SN${i}`);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensorkit-ota-campaigns-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pollAfterS', () => {
  it('is the same for the same device and tag, so a retried poll does not move', () => {
    expect(pollAfterS(300, 'en-1-SN1', '"3.1"')).toBe(pollAfterS(300, 'en-1-SN1', '"3.1"'));
    const moved = devices.filter((d) => pollAfterS(300, d, '"3.1"') !== pollAfterS(300, d, '"3.2"'));
    expect(moved.length).toBeGreaterThan(devices.length * 0.95);
  });

  it('spreads a fleet evenly within ±20 % of the interval (no herd)', () => {
    const values = devices.map((d) => pollAfterS(300, d, '"none"'));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(240);
    expect(Math.max(...values)).toBeLessThanOrEqual(360);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(Math.abs(mean - 300)).toBeLessThan(3);
    // Each 12-second band of the 120-second window holds about a tenth of the fleet.
    const bands = Array.from({ length: 10 }, (_, i) => values.filter((v) => v >= 240 + 12 * i && v < 252 + 12 * i).length);
    for (const band of bands) expect(band).toBeGreaterThan(devices.length / 10 - 60);
    for (const band of bands) expect(band).toBeLessThan(devices.length / 10 + 60);
    expect(values.every((v) => Number.isInteger(v * 10))).toBe(true);
  });
});

describe('payloads of an envelope', () => {
  it('names every component with a URI and its signed size', () => {
    expect(payloadsOf(envelopeFor(image, 2, key, { uri: 'fw/app.bin' }))).toEqual([{ key: 'fw/app.bin', size: 4096 }]);
    const other = makeImage(100, 3);
    const components = [manifestFor(image, 3, { uri: 'app.bin' }), manifestFor(other, 3, { uri: 'radio.bin', componentId: ['radio'] })];
    const multi = signEnvelope({ ...components[0]!, components }, key.privateKey);
    expect(payloadsOf(multi)).toEqual([
      { key: 'app.bin', size: 4096 },
      { key: 'radio.bin', size: 100 },
    ]);
    expect(() => payloadsOf(Uint8Array.of(1, 2, 3))).toThrow(ValidationError);
  });

  it('are checked in the artefact store: present, with the size the manifest signs', async () => {
    const store = openArtefactStore(join(dir, 'store'));
    await store.check();
    const envelope = envelopeFor(image, 2, key, { uri: 'fw-2.bin' });
    await expect(checkPayloads(envelope, store)).rejects.toThrow(/payload fw-2\.bin is not in the folder store/);
    await store.put('fw-2.bin', image.subarray(0, 100));
    await expect(checkPayloads(envelope, store)).rejects.toThrow(/has 100 bytes; the manifest signs 4096/);
    await store.put('fw-2.bin', image);
    await expect(checkPayloads(envelope, store)).resolves.toBeUndefined();
  });
});

describe('checkDeviceId', () => {
  it('takes 1–128 letters, digits and ._:- only', () => {
    expect(checkDeviceId('en-1-SN1', 'device')).toBe('en-1-SN1');
    expect(checkDeviceId('urn:dev:mac:0024befffe804ff1', 'device')).toBe('urn:dev:mac:0024befffe804ff1');
    for (const bad of ['', '../etc', 'a/b', 'line\nbreak', 'x'.repeat(129), 'sp ace', 42, undefined]) {
      expect(() => checkDeviceId(bad, 'device'), JSON.stringify(bad)).toThrow(ValidationError);
    }
  });
});
