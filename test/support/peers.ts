/**
 * Real protocol peers from Debian (Mosquitto, socat, Chromium). Tests use them when installed and a
 * real in-process fallback otherwise; with SENSORKIT_REQUIRE_PEERS=1 (set by .ci/run) a missing peer
 * is a failure, so CI always exercises them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The peers and where Debian installs them. */
export const PEERS = {
  mosquitto: ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'],
  socat: ['/usr/bin/socat'],
  chromium: ['/usr/bin/chromium', '/usr/bin/chromium-browser'],
} as const;

export type PeerName = keyof typeof PEERS;

/** Whether a missing peer must fail the run. */
export const PEERS_REQUIRED = process.env.SENSORKIT_REQUIRE_PEERS === '1';

/**
 * The path of a peer's executable, or undefined when it is not installed (and not required).
 * Throws when the peer is required and missing.
 */
export function findPeer(name: PeerName): string | undefined {
  const found = PEERS[name].find((path) => existsSync(path)) ?? onPath(name);
  if (found === undefined && PEERS_REQUIRED) {
    throw new Error(`${name} is required (SENSORKIT_REQUIRE_PEERS=1) but not installed: apt-get install -y ${name}`);
  }
  return found;
}

function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
