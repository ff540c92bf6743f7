import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { FleetStore } from '../../ota/server/fleet-store.js';
import { parseRolloutPolicy } from '../../ota/server/rollout/policy.js';
import { fleetBackends } from '../support/fleet-db.js';
import { envelopeFor, makeImage, makeKey } from '../support/ota-fixtures.js';

const backends = fleetBackends();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe.each(backends)('policy times on $name', (backend) => {
  it('a time SQL cannot hold is refused before a campaign exists; a whole-second time-out works at any clock value', async () => {
    expect(() => parseRolloutPolicy('{"deviceTimeoutS":1.0005,"waves":[50,50]}')).toThrow(ValidationError);
    for (const start of [0, 1_000_000, 1_764_921_600_123]) {
      const clock = new VirtualClock({ start });
      const store = await FleetStore.open(await backend.open(), clock);
      closers.push(() => store.close());
      await store.assign('g', ['a', 'b']);
      const policy = parseRolloutPolicy('{"deviceTimeoutS":1,"waves":[50,50],"errorThreshold":1}');
      const { id } = await store.createCampaign({ name: 'fw', group: 'g', envelope: envelopeFor(makeImage(64), 5, makeKey()), policy });
      await store.schedule();
      await clock.advance(1001);
      const pass = await store.schedule();
      expect(pass.timedOut).toBe(1);
      expect((await store.status(id)).counts['timed-out']).toBe(1);
    }
  }, 120_000);
});
