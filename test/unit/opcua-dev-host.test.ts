/**
 * The dev profile (anonymous, unencrypted) listens on loopback only, unless `allowRemoteDev`
 * forces it, with a loud warning. No server is started: construction refuses it.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../sdk/core/errors.js';
import { Device } from '../../sdk/device/index.js';
import { EmulatedBoard } from '../../boards/emulated/index.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { OpcuaServer, checkDevHost, isLoopbackHost } from '../../sdk/transport/opcua/index.js';
import { checkConfig } from '../../sdk/runtime/config.js';
import { RIG_MODEL } from '../support/opcua-rig.js';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'a.localhost'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '192.168.1.20', '10.0.0.1', 'fe80::1', 'plant-pc', 'localhost.example.com', '128.0.0.1'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('the dev profile on a non-loopback host', () => {
  const device = new Device(RIG_MODEL, { board: new EmulatedBoard({ definition: RIG_MODEL.board, clock: new VirtualClock(), seed: 1 }), serialNumber: 'X-1' });

  it('is refused at construction, naming allowRemoteDev', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      expect(() => new OpcuaServer(device, { profile: 'dev', host })).toThrow(ValidationError);
      expect(() => new OpcuaServer(device, { profile: 'dev', host })).toThrow(/^host: ".*" is not a loopback address, .*allowRemoteDev/);
    }
    expect(() => checkDevHost('dev', '0.0.0.0', false, 'opcua.host')).toThrow(/^opcua\.host: "0\.0\.0\.0" is not a loopback address/);
  });

  it('is served with allowRemoteDev, with a loud second warning', () => {
    const server = new OpcuaServer(device, { profile: 'dev', host: '0.0.0.0', allowRemoteDev: true });
    expect(server.warnings()).toHaveLength(2);
    expect(server.warnings()[1]).toMatch(/^OPC UA profile "dev" on 0\.0\.0\.0 \(allowRemoteDev\): ANYONE ON THE NETWORK can connect anonymously and unencrypted/);
  });

  it('is allowed on loopback, and for production anywhere', () => {
    expect(new OpcuaServer(device, { profile: 'dev', host: '127.0.0.1' }).warnings()).toHaveLength(1);
    expect(new OpcuaServer(device, { profile: 'dev' }).warnings()).toHaveLength(1);
    expect(() => checkDevHost('production', '0.0.0.0', false, 'host')).not.toThrow();
  });

  it('is refused by the runtime configuration check (dev is its default profile), and allowed with opcua.allowRemoteDev', () => {
    expect(() => checkConfig({ opcua: { host: '0.0.0.0' } })).toThrow(/^opcua\.host: "0\.0\.0\.0" is not a loopback address/);
    expect(() => checkConfig({ opcua: { host: '0.0.0.0', allowRemoteDev: true } })).not.toThrow();
    expect(() => checkConfig({ opcua: { host: '0.0.0.0', profile: 'production' } })).not.toThrow();
  });
});
