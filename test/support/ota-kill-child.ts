/**
 * A device process for the crash tests: opens the agent on a root and runs `update` or `boot`,
 * killing itself with SIGKILL right after the persistent step named in OTA_KILL_STEP (a power cut
 * at that point). Prints the boot result as JSON on success.
 *
 *   OTA_CHILD='{"root":…,"mode":"update","envelopeFile":…,"url":…,"publicPemFile":…,"healthy":true}' OTA_KILL_STEP=staged \
 *     node --import ./bin/register-ts.js test/support/ota-kill-child.ts
 */
import { readFileSync } from 'node:fs';
import { SystemClock } from '../../sdk/core/clock.js';
import { UpdateAgent } from '../../ota/agent/update-agent.js';
import { TrustAnchors } from '../../ota/keys/trust-anchors.js';
import { AuditLog } from '../../security/audit-log.js';
import { DEVICE } from './ota-fixtures.js';

interface ChildConfig {
  root: string;
  mode: 'update' | 'boot';
  envelopeFile?: string;
  url?: string;
  publicPemFile: string;
  healthy: boolean;
}

const config = JSON.parse(process.env.OTA_CHILD ?? '{}') as ChildConfig;
const killStep = process.env.OTA_KILL_STEP;
const clock = new SystemClock();
const agent = await UpdateAgent.open({
  root: config.root,
  clock,
  trust: TrustAnchors.of([readFileSync(config.publicPemFile, 'utf8')]),
  device: { ...DEVICE, deviceId: 'crash-dev' },
  audit: await AuditLog.open(`${config.root}/audit.log`, { clock }),
  healthProbes: [() => config.healthy],
  onStep: (step) => {
    if (step === killStep) process.kill(process.pid, 'SIGKILL');
  },
});
const result =
  config.mode === 'update'
    ? await agent.update({ envelope: readFileSync(config.envelopeFile!), url: config.url! })
    : await agent.boot();
process.stdout.write(`${JSON.stringify(result)}\n`);
