import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { StateError, ValidationError } from '../../sdk/core/errors.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { trackedCleanups } from '../support/cleanups.js';
import { fleetBackends } from '../support/fleet-db.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const { track } = trackedCleanups();
const key = makeKey();
const image = makeImage(256);
const envelope = envelopeFor(image, 5, key);
const devices = (n: number, prefix = 'en-1-SN') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe.each(fleetBackends())('FleetStore on $name', (backend) => {
  async function open(clock = new VirtualClock(1_000_000)): Promise<FleetStore> {
    return track(await FleetStore.open(await backend.open(), clock));
  }

  it('offers a one-wave campaign to every device of its group, counts reports, and halts', async () => {
    const store = await open();
    await store.assign('line-3', devices(20));
    await store.assign('line-4', ['other-1']);
    const created = await store.createCampaign({ name: 'fw 1.5', group: 'line-3', envelope, policy: parseRolloutPolicy('{}') });
    expect(created).toMatchObject({ name: 'fw 1.5', kind: 'update', state: 'running', sequence: 5, targeted: 20, openWave: 0, waves: [100] });
    expect(created.counts.offered).toBe(20);
    expect(await store.offerFor('other-1')).toBeUndefined();
    const offer = await store.offerFor('en-1-SN3');
    expect(offer).toMatchObject({ campaignId: created.id, sequence: 5, payloadKeys: ['firmware.bin'] });
    expect(Buffer.from(offer!.envelope).equals(Buffer.from(envelope))).toBe(true);
    expect(await store.etagFor('en-1-SN3')).toBe(offer!.etag);

    await store.report(created.id, 'en-1-SN3', 'downloading');
    await store.report(created.id, 'en-1-SN3', 'trial');
    let status = await store.report(created.id, 'en-1-SN3', 'confirmed');
    expect(status.counts).toMatchObject({ offered: 19, confirmed: 1, trial: 0, downloading: 0 });
    expect(status.successRatio).toBe(1);
    expect(await store.offerFor('en-1-SN3')).toBeUndefined();

    status = await store.halt(created.id, 'field returns', 'alice');
    expect(status).toMatchObject({ state: 'halted', reason: 'field returns' });
    expect(await store.offerFor('en-1-SN4')).toBeUndefined();
    await expect(store.resume(created.id)).rejects.toBeInstanceOf(StateError);
  });

  it('refuses a report from a device never offered the campaign, and changes nothing', async () => {
    const store = await open();
    await store.assign('line-3', devices(4));
    const { id } = await store.createCampaign({ name: 'fw', group: 'line-3', envelope, policy: parseRolloutPolicy('{}') });
    const before = await store.status(id);
    await expect(store.report(id, 'stranger-1', 'failed')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.report(id + 1, 'en-1-SN0', 'failed')).rejects.toBeInstanceOf(ValidationError);
    expect(await store.status(id)).toEqual(before);
  });
});
