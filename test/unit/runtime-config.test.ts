/**
 * The runtime configuration: its checks (one `ValidationError` naming the path of the bad field,
 * unknown keys with a did-you-mean), configuration files (JSON and TypeScript, paths relative to
 * the file), flags over the file, its JSON Schema agreeing with the checks, and the board registry.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { mergeConfig } from '../../sdk/cli/run.js';
import { ValidationError } from '../../sdk/core/errors.js';
import {
  ConfigFileError,
  boardKind,
  checkBoardSpec,
  checkConfig,
  configJsonSchema,
  defineConfig,
  findConfigFile,
  loadConfigFile,
  registerBoard,
  registeredBoards,
  type BoardKind,
} from '../../sdk/runtime/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const fixture = (name: string): string => `${FIXTURES}${name}`;

/** The error `run` throws, for asserting its class, path and message. */
function thrown(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('checkConfig', () => {
  it('accepts a complete configuration and returns it with its paths resolved', () => {
    const config = checkConfig(
      {
        device: 'device.ts',
        board: 'firmata:/dev/ttyACM0@115200',
        seed: 7,
        serialNumber: 'SN-1',
        mqtt: { url: 'mqtts://broker.plant:8883', tls: { ca: 'ca.pem', cert: 'device.pem', key: 'device.key' } },
        outbox: { dir: 'outbox' },
        opcua: { port: 0, host: '0.0.0.0', profile: 'production', pki: 'pki', users: 'users.json', x509Users: true },
      },
      (path) => `/opt/sensor/${path}`,
    );
    expect(config).toEqual({
      device: '/opt/sensor/device.ts',
      board: 'firmata:/dev/ttyACM0@115200',
      seed: 7,
      serialNumber: 'SN-1',
      mqtt: { url: 'mqtts://broker.plant:8883', tls: { ca: '/opt/sensor/ca.pem', cert: '/opt/sensor/device.pem', key: '/opt/sensor/device.key' } },
      outbox: { dir: '/opt/sensor/outbox' },
      opcua: { port: 0, host: '0.0.0.0', profile: 'production', pki: '/opt/sensor/pki', users: '/opt/sensor/users.json', x509Users: true },
    });
    expect(checkConfig({})).toEqual({});
    expect(checkConfig({ mqtt: false, opcua: false })).toEqual({ mqtt: false, opcua: false });
    expect(checkConfig({ mqtt: { batch: { maxSamples: 10, maxDelayMs: 200 } } })).toEqual({ mqtt: { batch: { maxSamples: 10, maxDelayMs: 200 } } });
    expect(checkConfig({ mqtt: { url: 'mqtt://x', username: 'sensor-7', responseTopicPrefixes: ['plant-7/replies/'] } })).toEqual({ mqtt: { url: 'mqtt://x', username: 'sensor-7', responseTopicPrefixes: ['plant-7/replies/'] } });
  });

  it.each([
    [{ device: 3 }, 'device', 'expected a non-empty string, got 3'],
    [{ device: '  ' }, 'device', 'expected a non-empty string, got "  "'],
    [{ seed: -1 }, 'seed', 'must be from 0 to 4294967295, got -1'],
    [{ seed: 1.5 }, 'seed', 'expected an integer, got 1.5'],
    [{ seed: '7' }, 'seed', 'expected an integer, got "7"'],
    [{ board: 'esp32' }, 'board', 'unknown board "esp32"; available: emulated, firmata:PATH[@BAUD], linux[:ROOT]'],
    [{ board: 'linux:' }, 'board linux:ROOT', 'ROOT is empty'],
    [{ board: 'firmata:' }, 'board firmata:PATH', 'the serial port path is missing (e.g. firmata:/dev/ttyACM0)'],
    [{ board: 'firmata:/dev/ttyACM0@9' }, 'board firmata:/dev/ttyACM0@9', 'baud rate must be from 300 to 4000000'],
    [{ board: 'emulated:3' }, 'board emulated', 'takes no arguments (the seed is set with `seed`)'],
    [{ mqtt: true }, 'mqtt', 'expected an object, or false to turn it off, got true'],
    [{ mqtt: 'mqtt://x' }, 'mqtt', 'expected an object, got "mqtt://x"'],
    [{ mqtt: { url: 'http://x' } }, 'mqtt.url', 'must be mqtt:// or mqtts://, got "http://x"'],
    [{ mqtt: { url: 'not a url' } }, 'mqtt.url', 'must be mqtt:// or mqtts://, got "not a url"'],
    [{ mqtt: { url: 'mqtt://x', tls: { ca: 'ca.pem' } } }, 'mqtt.tls.ca', 'needs an mqtts:// url'],
    [{ mqtt: { tls: { key: 'k.pem' } } }, 'mqtt.tls.key', 'needs an mqtts:// url'],
    [{ mqtt: { url: 'mqtts://x', tls: { cert: 'c.pem' } } }, 'mqtt.tls.cert', 'cert and key go together'],
    [{ mqtt: { url: 'mqtts://x', tls: { key: 'k.pem' } } }, 'mqtt.tls.key', 'cert and key go together'],
    [{ mqtt: { url: 'mqtts://x', tls: { ca: 7 } } }, 'mqtt.tls.ca', 'expected a non-empty string, got 7'],
    [{ mqtt: { url: 'http://admin:S3cret@x' } }, 'mqtt.url', 'must be mqtt:// or mqtts://, got "http://admin:***@x"'],
    [{ mqtt: { username: 'admin' } }, 'mqtt.username', 'needs a broker url (the embedded broker takes no credentials)'],
    [{ mqtt: { passwordFile: 'pw' } }, 'mqtt.passwordFile', 'needs a broker url (the embedded broker takes no credentials)'],
    [{ mqtt: { url: 'mqtt://x', passwordFile: '' } }, 'mqtt.passwordFile', 'expected a non-empty string, got ""'],
    [{ mqtt: { url: 'mqtt://x', responseTopicPrefixes: 'replies/' } }, 'mqtt.responseTopicPrefixes', 'expected a list of strings, got "replies/"'],
    [{ mqtt: { url: 'mqtt://x', responseTopicPrefixes: ['replies/', 'plant/+/'] } }, 'mqtt.responseTopicPrefixes[1]', 'a topic prefix takes no wildcards, got "plant/+/"'],
    [{ mqtt: { url: 'mqtt://x', responseTopicPrefixes: [''] } }, 'mqtt.responseTopicPrefixes[0]', 'expected a non-empty string, got ""'],
    [{ mqtt: { url: 'mqtt://x', batch: { maxDelayMs: -1 } } }, 'mqtt.batch.maxDelayMs', 'must be from 0 to 60000, got -1'],
    [{ mqtt: { url: 'mqtt://x', batch: { maxSamples: 0 } } }, 'mqtt.batch.maxSamples', 'must be from 1 to 10000, got 0'],
    [{ outbox: [] }, 'outbox', 'expected an object, got an array'],
    [{ opcua: { port: 70000 } }, 'opcua.port', 'must be from 0 to 65535, got 70000'],
    [{ opcua: { profile: 'lab' } }, 'opcua.profile', 'expected one of "dev", "production", got "lab"'],
    [{ opcua: { x509Users: 'yes' } }, 'opcua.x509Users', 'expected true or false, got "yes"'],
    [null, '', 'expected an object, got null'],
  ])('refuses %j at %s', (config, path, reason) => {
    const error = thrown(() => checkConfig(config));
    expect(error.path).toBe(path);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(path ? `${path}: ${reason}` : reason);
  });

  it.each([
    [{ opcua: { prot: 4841 } }, 'opcua.prot: unknown field; did you mean "port"?'],
    [{ mqtt: { URL: 'mqtt://x' } }, 'mqtt.URL: unknown field; did you mean "url"?'],
    [{ serial: 'SN-1' }, 'serial: unknown field'],
    [{ opcUa: false }, 'opcUa: unknown field; did you mean "opcua"?'],
    [{ mqtt: { tls: { ca: 'a', certificate: 'c' } } }, 'mqtt.tls.certificate: unknown field'],
  ])('refuses the unknown key in %j with a did-you-mean where one is near', (config, message) => {
    expect(thrown(() => checkConfig(config)).message).toBe(message);
  });

  it('checks in defineConfig as well, returning the object as given', () => {
    const config = { device: './device.ts', opcua: false } as const;
    expect(defineConfig(config)).toBe(config);
    expect(thrown(() => defineConfig({ opcua: { port: -1 } })).message).toBe('opcua.port: must be from 0 to 65535, got -1');
  });
});

describe('configuration files', () => {
  it('loads a JSON file, resolving relative paths against its folder', async () => {
    const { file, config } = await loadConfigFile(fixture('good.json'));
    expect(file).toBe(fixture('good.json'));
    expect(config).toEqual({
      device: `${ROOT}examples/env-node`,
      board: 'emulated',
      seed: 5,
      serialNumber: 'CFG-5',
      mqtt: false,
      outbox: { dir: `${FIXTURES}outbox` },
      opcua: false,
    });
  });

  it('keeps absolute paths and resolves the relative ones of every path setting', async () => {
    const { config } = await loadConfigFile(fixture('tls.json'));
    expect(config.mqtt).toEqual({ url: 'mqtts://broker.plant:8883', tls: { ca: `${FIXTURES}pki/ca.pem`, cert: '/etc/sensor/device.pem', key: '/etc/sensor/device.key' } });
    expect(config.opcua).toEqual({ port: 4841, profile: 'production', pki: `${FIXTURES}pki`, users: `${FIXTURES}users.json`, x509Users: true });
  });

  it('loads a TypeScript module exporting defineConfig({ … })', async () => {
    const { config } = await loadConfigFile(fixture('good.ts'));
    expect(config).toEqual({ device: `${ROOT}examples/env-node`, board: 'emulated', seed: 6, mqtt: false, opcua: false });
  });

  it.each([
    ['bad-url.json', 'mqtt.url', 'bad-url.json: mqtt.url: must be mqtt:// or mqtts://, got "http://x"'],
    ['typo.json', 'opcua.prot', 'typo.json: opcua.prot: unknown field; did you mean "port"?'],
    ['bad-board.json', 'board', 'bad-board.json: board: unknown board "esp32"; available: emulated, firmata:PATH[@BAUD], linux[:ROOT]'],
    ['bad-define.ts', 'seed', 'bad-define.ts: seed: must be from 0 to 4294967295, got -1'],
    ['not-json.json', '', /not-json\.json: not valid JSON: /],
    ['missing.json', '', 'missing.json: no such file'],
  ])('refuses %s in one line naming the file and the field', async (name, field, message) => {
    const error = await loadConfigFile(fixture(name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    const configError = error as ConfigFileError;
    expect(configError.field).toBe(field);
    expect(configError.code).toBe('ERR_VALIDATION');
    expect(configError.message.split('\n')).toHaveLength(1);
    if (typeof message === 'string') expect(configError.message).toBe(`${FIXTURES}${message}`);
    else expect(configError.message).toMatch(message);
  });

  it('finds sensorkit.config.* in a folder, JSON first', () => {
    expect(findConfigFile(`${ROOT}examples/app`)).toBe(`${ROOT}examples/app/sensorkit.config.json`);
    expect(findConfigFile(FIXTURES)).toBeUndefined();
  });
});

describe('flags over the file', () => {
  const file = checkConfig({
    device: '/opt/sensor/device.ts',
    board: 'linux',
    seed: 3,
    mqtt: { url: 'mqtts://broker.plant:8883', tls: { ca: '/etc/ca.pem' } },
    outbox: { dir: '/var/lib/outbox' },
    opcua: { port: 4841, profile: 'production' },
  });

  it('replaces one setting and keeps the rest of its section', () => {
    expect(mergeConfig(file, { seed: 9, mqtt: { url: 'mqtts://other:8883' }, opcua: { port: 0 } })).toEqual({
      device: '/opt/sensor/device.ts',
      board: 'linux',
      seed: 9,
      mqtt: { url: 'mqtts://other:8883', tls: { ca: '/etc/ca.pem' } },
      outbox: { dir: '/var/lib/outbox' },
      opcua: { port: 0, profile: 'production' },
    });
  });

  it('turns a section off with false, and on again over a file that turned it off', () => {
    expect(mergeConfig(file, { mqtt: false, opcua: false })).toMatchObject({ mqtt: false, opcua: false, outbox: { dir: '/var/lib/outbox' } });
    expect(mergeConfig({ mqtt: false, opcua: false }, { mqtt: { url: 'mqtt://x' }, opcua: { port: 0 } })).toEqual({ mqtt: { url: 'mqtt://x' }, opcua: { port: 0 } });
  });

  it('keeps the file when no flag is given', () => {
    expect(mergeConfig(file, {})).toEqual(file);
  });
});

describe('the JSON Schema', () => {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(configJsonSchema());

  it('is the one examples/app ships for editors (regenerate it with `sensorkit config schema`)', () => {
    expect(JSON.parse(readFileSync(`${ROOT}examples/app/sensorkit.config.schema.json`, 'utf8'))).toEqual(configJsonSchema());
  });

  it('accepts the example deployment and the fixtures the checks accept', () => {
    for (const file of [`${ROOT}examples/app/sensorkit.config.json`, fixture('good.json'), fixture('tls.json')]) {
      const config: unknown = JSON.parse(readFileSync(file, 'utf8'));
      expect(validate(config), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(() => checkConfig(config)).not.toThrow();
    }
  });

  it.each([[{ opcua: { prot: 1 } }], [{ seed: -1 }], [{ mqtt: true }], [{ opcua: { profile: 'lab' } }], [{ device: '' }], [{ x509Users: true }]])(
    'refuses %j as the checks do',
    (config) => {
      expect(validate(config)).toBe(false);
      expect(() => checkConfig(config)).toThrow(ValidationError);
    },
  );
});

describe('registerBoard', () => {
  const kind: BoardKind = {
    name: 'unit-bench',
    usage: 'unit-bench:ID',
    summary: 'a bench for this test',
    check(args) {
      if (args === undefined) throw new ValidationError('unit-bench:ID', 'ID is missing');
    },
    open: () => Promise.reject(new Error('not opened in this test')),
  };

  it('adds a kind that specs, errors and the registry list then know', () => {
    registerBoard(kind);
    expect(boardKind('unit-bench')).toBe(kind);
    expect(registeredBoards().map((k) => k.name)).toEqual(['emulated', 'firmata', 'linux', 'unit-bench']);
    expect(checkBoardSpec('unit-bench:7')).toEqual({ kind, args: '7' });
    expect(thrown(() => checkBoardSpec('unit-bench')).message).toBe('board unit-bench:ID: ID is missing');
    expect(thrown(() => checkBoardSpec('esp32')).message).toBe('board: unknown board "esp32"; available: emulated, firmata:PATH[@BAUD], linux[:ROOT], unit-bench:ID');
    expect(checkConfig({ board: 'unit-bench:7' })).toEqual({ board: 'unit-bench:7' });
  });

  it('refuses a name that is taken, sensorkit\'s own included', () => {
    expect(thrown(() => registerBoard({ ...kind, name: 'firmata' })).message).toBe('board: a board kind "firmata" is already registered');
    expect(thrown(() => registerBoard({ ...kind, name: 'emulated' })).code).toBe('ERR_VALIDATION');
  });

  it('refuses a malformed kind with an ArgumentError', () => {
    expect(() => registerBoard({ ...kind, name: 'My Board' })).toThrow(/Expected `name` of lower case letters/);
    expect(() => registerBoard({ ...kind, name: 'no-open', open: undefined as unknown as BoardKind['open'] })).toThrow(/Expected `open` of board kind "no-open" to be a function/);
    expect(() => registerBoard({ ...kind, name: 'no-usage', usage: '' })).toThrow(/Expected `usage`/);
  });
});
