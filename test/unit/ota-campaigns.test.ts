import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ValidationError } from '../../sdk/core/errors.js';
import { CampaignStore } from '../../ota/server/campaign-store.js';

const envelope = Uint8Array.of(0xd8, 0x6b, 0xa0);
const stores: CampaignStore[] = [];
function store(): CampaignStore {
  const s = new CampaignStore(':memory:', new VirtualClock());
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

const devices = Array.from({ length: 200 }, (_, i) => `en-1-SN${i}`);

describe('CampaignStore', () => {
  it('targets only the group, and a staged percentage of it that only grows', () => {
    const s = store();
    const id = s.create({ name: 'fw 2', group: 'line-3', envelope, percent: 10 });
    s.assign('line-3', devices);
    s.assign('line-4', ['other-1']);
    expect(s.offerFor('other-1')).toBeUndefined();
    const first = devices.filter((d) => s.offerFor(d) !== undefined);
    expect(first.length).toBeGreaterThan(5);
    expect(first.length).toBeLessThan(40);
    expect(first.every((d) => CampaignStore.bucket(id, d) < 10)).toBe(true);
    s.setPercent(id, 50);
    const second = devices.filter((d) => s.offerFor(d) !== undefined);
    expect(second.length).toBeGreaterThan(first.length);
    expect(first.every((d) => second.includes(d))).toBe(true);
    expect(s.status(id).counts.offered).toBe(second.length);
    expect(s.offerFor(first[0]!)!.envelope).toEqual(envelope);
  });

  it('stops offering to a device that finished, and halts when failures pass the threshold', () => {
    const s = store();
    const id = s.create({ name: 'fw 2', group: 'g', envelope, failureThreshold: 0.25, minReports: 4 });
    s.assign('g', devices.slice(0, 10));
    for (const d of devices.slice(0, 10)) s.offerFor(d);
    s.report(id, devices[0]!, 'confirmed');
    expect(s.offerFor(devices[0]!)).toBeUndefined();
    s.report(id, devices[1]!, 'rolled-back', 'health-check-failed');
    s.report(id, devices[2]!, 'failed', 'payload-mismatch');
    // 2 failed of 3 finished, but fewer than minReports: still running.
    expect(s.status(id).state).toBe('running');
    const status = s.report(id, devices[3]!, 'confirmed');
    expect(status).toMatchObject({ state: 'halted', failureRatio: 0.5 });
    expect(status.haltedReason).toMatch(/failure ratio 0.500 above 0.25/);
    expect(s.offerFor(devices[5]!)).toBeUndefined();
  });

  it('keeps running while failures stay at or below the threshold', () => {
    const s = store();
    const id = s.create({ name: 'fw', group: 'g', envelope, failureThreshold: 0.5 });
    s.assign('g', ['a', 'b', 'c']);
    for (const d of ['a', 'b', 'c']) s.offerFor(d);
    s.report(id, 'a', 'confirmed');
    expect(s.report(id, 'b', 'failed').state).toBe('running');
    expect(s.report(id, 'c', 'failed').state).toBe('halted');
  });

  it('refuses bad specs and reports with a ValidationError', () => {
    const s = store();
    expect(() => s.create({ name: 'x', group: 'g', envelope, percent: 101 })).toThrow(ValidationError);
    expect(() => s.create({ name: 'x', group: 'g', envelope, failureThreshold: 2 })).toThrow(ValidationError);
    const id = s.create({ name: 'x', group: 'g', envelope });
    expect(() => s.report(id, 'a', 'exploded' as never)).toThrow(/expected one of/);
    expect(() => s.assign(' ', ['a'])).toThrow(ValidationError);
    expect(() => s.status(99)).toThrow(/no campaign 99/);
  });

  it('counts no report from a device that was never offered the campaign (a forged failure cannot halt it)', () => {
    const s = store();
    const id = s.create({ name: 'fw', group: 'g', envelope, failureThreshold: 0.2 });
    s.assign('g', ['a']);
    s.offerFor('a');
    for (const forged of ['never-seen', 'b']) expect(() => s.report(id, forged, 'failed', 'forged')).toThrow(/was not offered campaign/);
    expect(s.status(id)).toMatchObject({ state: 'running', failureRatio: 0 });
    expect(s.status(id).counts.failed).toBe(0);
    // A device of another group, offered another campaign, cannot report into this one either.
    const other = s.create({ name: 'fw-other', group: 'h', envelope });
    s.assign('h', ['c']);
    expect(s.offerFor('c')!.campaignId).toBe(other);
    expect(() => s.report(id, 'c', 'failed')).toThrow(/was not offered/);
    expect(s.report(id, 'a', 'confirmed').counts.confirmed).toBe(1);
  });

  it('takes a device\'s group from the operator only: a request cannot register or move it', () => {
    const s = store();
    const id = s.create({ name: 'fw', group: 'line-3', envelope });
    // Unassigned: nothing is offered, and asking does not register it anywhere.
    expect(s.offerFor('en-1-SN1')).toBeUndefined();
    expect(s.devices()).toEqual([]);
    s.assign('line-3', ['en-1-SN1']);
    expect(s.offerFor('en-1-SN1')?.campaignId).toBe(id);
    expect(s.devices('line-3')).toEqual([{ id: 'en-1-SN1', group: 'line-3' }]);
    s.assign('line-4', ['en-1-SN1']);
    expect(s.devices()).toEqual([{ id: 'en-1-SN1', group: 'line-4' }]);
    expect(s.offerFor('en-1-SN1')).toBeUndefined();
    s.unassign(['en-1-SN1']);
    expect(s.devices()).toEqual([]);
  });
});
