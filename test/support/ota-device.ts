/** A provisioned test device for OTA tests: a temp root with image 1 installed, and helpers. */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock, type Clock } from '../../sdk/core/clock.js';
import { AuditLog } from '../../security/audit-log.js';
import { UpdateAgent, type OtaStatus, type UpdateAgentOptions } from '../../ota/agent/update-agent.js';
import { DEVICE, envelopeFor, makeImage, trustOf, type TestKey } from './ota-fixtures.js';

export interface TestDevice {
  readonly root: string;
  readonly agent: UpdateAgent;
  readonly audit: AuditLog;
  readonly statuses: OtaStatus[];
  readonly published: { topic: string; payload: Record<string, unknown> }[];
  /** The sequence in the counter file. */
  counter(): Promise<number>;
  cleanup(): Promise<void>;
}

export async function makeDevice(key: TestKey, options: Partial<UpdateAgentOptions> & { clock?: Clock; root?: string; provision?: boolean } = {}): Promise<TestDevice> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'sensorkit-ota-')));
  const clock = options.clock ?? new SystemClock();
  const audit = await AuditLog.open(join(root, 'audit.log'), { clock });
  const published: TestDevice['published'] = [];
  const { provision: _provision, ...agentOptions } = options;
  const agent = await UpdateAgent.open({
    root,
    clock,
    trust: trustOf(key),
    device: { ...DEVICE, deviceId: 'en-1-SN1' },
    audit,
    publish: (topic, payload) => void published.push({ topic, payload: JSON.parse(payload) as Record<string, unknown> }),
    ...agentOptions,
  });
  const statuses: OtaStatus[] = [];
  agent.on('status', (s) => statuses.push(s));
  if (options.provision ?? options.root === undefined) {
    const image1 = makeImage(64 * 1024, 1);
    await agent.provision(envelopeFor(image1, 1, key), image1);
  }
  return {
    root,
    agent,
    audit,
    statuses,
    published,
    counter: async () => (JSON.parse(await readFile(join(root, 'state', 'counter.json'), 'utf8')) as { sequence: number }).sequence,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Writes an image and its envelope into a served directory. */
export async function publishImage(dir: string, name: string, image: Uint8Array, envelope: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), image);
  await writeFile(join(dir, `${name}.suit`), envelope);
}
