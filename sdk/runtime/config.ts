/**
 * The runtime's configuration: which device runs on which board, where it publishes and how it
 * serves OPC UA. One declaration (`CONFIG_SCHEMA`) yields the checks, with the path of a bad field,
 * and the JSON Schema of `sensorkit.config.json` for editors.
 *
 * An absent setting takes the default `sensorkit run` has: the emulated board, seed 1, an embedded
 * MQTT broker on 127.0.0.1, the outbox in `.sensorkit/outbox/<device id>`, OPC UA on port 4840 with
 * the `dev` profile. `mqtt: false` and `opcua: false` turn those off.
 */
import { join } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { redactCredentials } from '../transport/mqtt/credentials.js';
import { checkDevHost } from '../transport/opcua/dev-host.js';
import { checkBoardSpec } from '../io/board-registry.js';
import { OPERATOR_ROLES } from '../model/roles.js';
import type { OperatorRole } from '../model/spec.js';
import './builtin-boards.js';
import { checkSettings, settingsJsonSchema, type ObjectNode } from './config-schema.js';

/** MQTT: the broker, the credentials and the TLS files. */
export interface MqttConfig {
  /** `mqtt://host[:port]` or `mqtts://host[:port]`. Default: an embedded broker on 127.0.0.1 (a free port). */
  readonly url?: string;
  /** User name at the broker (MQTT 5 §3.1.3.5). Default: the one in `url`, if any. */
  readonly username?: string;
  /**
   * File whose content (a trailing line break removed) is the password at the broker. Default:
   * `$SENSORKIT_MQTT_PASSWORD`, else the password in `url` (visible to other users in `ps` when
   * given on the command line).
   */
  readonly passwordFile?: string;
  /**
   * Topic prefixes under which a command's MQTT 5 Response Topic is honoured, besides the device's
   * own `cmd/<command>/result…`. Default none.
   */
  readonly responseTopicPrefixes?: readonly string[];
  /**
   * How telemetry is batched: a batch closes at `maxSamples` samples or `maxDelayMs` after its
   * first sample. The batch being collected is in memory only, so a SIGKILL or power cut loses at
   * most `maxDelayMs` of samples; a smaller value loses less and publishes more, smaller messages.
   * Default `{ maxSamples: 100, maxDelayMs: 1000 }`.
   */
  readonly batch?: { readonly maxSamples?: number; readonly maxDelayMs?: number };
  /** With `mqtts://`: files in PEM. */
  readonly tls?: {
    /** CA certificate(s) the broker's certificate must chain to. */
    readonly ca?: string;
    /** Client certificate, for mutual TLS (with `key`). */
    readonly cert?: string;
    /** Private key of `cert`. */
    readonly key?: string;
    /** Client certificate and key from the device identity (`security.identity`), for mutual TLS. Default false. */
    readonly identity?: boolean;
  };
}

/** The durable outbox of telemetry. */
export interface OutboxConfig {
  /** Its folder. Default `.sensorkit/outbox/<device id>` (in the working directory). */
  readonly dir?: string;
}

/** The OPC UA server. */
export interface OpcuaConfig {
  /** TCP port; 0 picks a free one. Default 4840. */
  readonly port?: number;
  /** Address to listen on. Default 127.0.0.1 for `dev`, every interface for `production`. */
  readonly host?: string;
  /** `dev` adds SecurityPolicy None and anonymous login; `production` is SignAndEncrypt with user login. Default `dev`. */
  readonly profile?: 'dev' | 'production';
  /** Certificates: own, trusted and rejected. Default `.sensorkit/pki`. */
  readonly pki?: string;
  /** Users file (scrypt hashes, `sensorkit opcua user add NAME`). Default `.sensorkit/opcua-users.json`. */
  readonly users?: string;
  /** Accept X.509 user certificates trusted in `<pki>/users`. Default false. */
  readonly x509Users?: boolean;
  /**
   * The device identity (`security.identity`, an RSA one: `sensorkit identity init --key-type rsa`)
   * is the application instance certificate, instead of `<pki>/own`. Default false.
   */
  readonly identity?: boolean;
  /** Let the `dev` profile (anonymous, unencrypted) listen on a non-loopback `host`. Default false: refused. */
  readonly allowRemoteDev?: boolean;
  /**
   * Roles (viewer, operator, engineer, security-admin) of sessions the users file gives none:
   * `defaultUserRole` for a user, `anonymous` for an anonymous `dev` session. Default engineer for both.
   */
  readonly roles?: {
    readonly defaultUserRole?: OperatorRole;
    readonly anonymous?: OperatorRole;
    /** Roles of X.509 users by their certificate's common name. */
    readonly x509?: Readonly<Record<string, OperatorRole>>;
  };
}

/** The folder of the default audit logs, relative to the working directory: `<device id>.log` in it. */
export const DEFAULT_AUDIT_DIR = join('.sensorkit', 'audit');

/**
 * The default audit log of a device, relative to the working directory (one a device, as the outbox).
 *
 * @example
 * ```ts
 * defaultAuditLogFile('env-node-EMU-1') // '.sensorkit/audit/env-node-EMU-1.log'
 * ```
 */
export function defaultAuditLogFile(deviceId: string): string {
  return join(DEFAULT_AUDIT_DIR, `${deviceId}.log`);
}

/** The audit log: where, how it rotates, whether its records are published. */
export interface AuditLogConfig {
  /** The log file. Default `.sensorkit/audit/<device id>.log`. */
  readonly file?: string;
  /** Rotate before the file grows past this, bytes. Default 1 MiB. */
  readonly maxBytes?: number;
  /** Rotated files kept (`<file>.1` … `<file>.<keep>`). Default 8. */
  readonly keep?: number;
  /** File holding the HMAC key of the chain (its raw bytes, at least 16). Default: no key (SHA-256). */
  readonly keyFile?: string;
  /** Publish each record on `sensorkit/v1/<device id>/audit`. Default true (when MQTT is on). */
  readonly publish?: boolean;
}

/** Security controls: identity, audit trail, operators and signed commands. */
export interface SecurityConfig {
  /** The device identity (`sensorkit identity init`): required under the production profile. */
  readonly identity?: {
    /** Its folder. Default `.sensorkit/identity`. */
    readonly dir?: string;
  };
  /** The audit log, or `false` for none. Default: on under the production profile, off under `dev`. */
  readonly auditLog?: AuditLogConfig | false;
  /** The operator trust store (`sensorkit operator trust`): who may sign commands, with which role. */
  readonly operators?: string;
  /** Require signed commands and setting writes over MQTT. Default: true under the production profile. */
  readonly signedCommands?: boolean;
  /** How the wall clock is kept: declared for the hardening audit. */
  readonly timeSource?: 'ntp' | 'ptp' | 'gnss' | 'rtc' | 'system';
}

/**
 * What a `sensorkit.config.json` (or `.ts`/`.js`) holds. Relative paths in a file resolve against
 * the file's folder.
 */
export interface RuntimeConfig {
  /** The device file, or a folder with `device.ts`/`device.js`. */
  readonly device?: string;
  /** `NAME[:ARGS]` of a registered board kind: `emulated`, `firmata:PATH[@BAUD]`, `linux[:ROOT]`, … Default `emulated`. */
  readonly board?: string;
  /** Seed of the emulated board's random signals. Default 1. */
  readonly seed?: number;
  /** When the model takes it from the board or environment. Default `$SENSORKIT_SERIAL`, else `EMU-<seed>`. */
  readonly serialNumber?: string;
  /** MQTT settings, or `false` for no MQTT. */
  readonly mqtt?: MqttConfig | false;
  readonly outbox?: OutboxConfig;
  /** OPC UA settings, or `false` for no OPC UA server. */
  readonly opcua?: OpcuaConfig | false;
  /**
   * `production` requires a provisioned device (an identity, no default or weak credentials),
   * signed commands and an audit log, runs the hardening audit at start, and is OPC UA's
   * default profile. Default: `opcua.profile`, else `dev`.
   */
  readonly profile?: 'dev' | 'production';
  readonly security?: SecurityConfig;
  /** Signed calibration records this unit loads at start (`sensorkit hil calibrate`). */
  readonly calibration?: CalibrationConfig;
  /**
   * On Linux, every thread of `sensorkit run` at SCHED_FIFO with this priority (1–99) once the
   * device runs: a FIFO-drained part then loses no frames to other processes on the cores. Needs
   * CAP_SYS_NICE; without it a warning and the normal policy. Default: the normal policy.
   */
  readonly realtime?: number;
}

/** Signed calibration records: checked against `key` and the unit's serial number before the device starts. */
export interface CalibrationConfig {
  /** Record files, or folders whose `.json` files are records. */
  readonly records: readonly string[];
  /** The public key (SPKI PEM) trusted to sign calibrations. */
  readonly key: string;
}

/**
 * The profile a configuration runs under: `profile`, else `opcua.profile`, else `dev`.
 *
 * @example
 * ```ts
 * runtimeProfile({ opcua: { profile: 'production' } }) // 'production'
 * ```
 */
export function runtimeProfile(config: Pick<RuntimeConfig, 'profile' | 'opcua'>): 'dev' | 'production' {
  return config.profile ?? (config.opcua ? config.opcua.profile : undefined) ?? 'dev';
}

/**
 * Types a configuration object in a `sensorkit.config.ts` (and checks it when the file loads).
 *
 * @example
 * ```ts
 * // sensorkit.config.ts
 * import { defineConfig } from 'sensorkit/runtime'
 * export default defineConfig({ device: './device.ts', board: 'linux', mqtt: { url: 'mqtts://broker.plant:8883' } })
 * ```
 */
export function defineConfig(config: RuntimeConfig): RuntimeConfig {
  checkSettings(CONFIG_SCHEMA, config, '');
  return config;
}

const MQTT_SCHEMES = ['mqtt:', 'mqtts:'];

/** The declaration of {@link RuntimeConfig}: its checks and its JSON Schema. */
export const CONFIG_SCHEMA: ObjectNode = {
  type: 'object',
  description: 'sensorkit runtime configuration (sensorkit run --config FILE)',
  fields: {
    $schema: { type: 'string', description: 'the JSON Schema of this file, for editors (sensorkit config schema)' },
    device: { type: 'string', path: true, description: 'the device file, or a folder with device.ts/device.js', examples: ['./device.ts'] },
    board: {
      type: 'string',
      description: 'board to run on: emulated, firmata:PATH[@BAUD], linux[:ROOT] or a registered kind (default: emulated)',
      examples: ['emulated', 'linux', 'firmata:/dev/ttyACM0'],
      check: (value) => void checkBoardSpec(value),
    },
    seed: { type: 'integer', min: 0, max: 2 ** 32 - 1, description: "seed of the emulated board's random signals (default: 1)" },
    realtime: {
      type: 'integer',
      min: 1,
      max: 99,
      description: 'on Linux, every thread of sensorkit run at SCHED_FIFO with this priority (needs CAP_SYS_NICE; else a warning and the normal policy; default: the normal policy)',
    },
    serialNumber: { type: 'string', description: 'serial number, when the model takes it from the board or environment' },
    mqtt: {
      type: 'object-or-false',
      description: 'MQTT telemetry, or false for none (default: an embedded broker on 127.0.0.1)',
      object: {
        type: 'object',
        description: 'MQTT settings',
        fields: {
          url: {
            type: 'string',
            description: 'broker URL, mqtt://host[:port] or mqtts://host[:port]',
            examples: ['mqtts://broker.plant:8883'],
            check: (value) => (isMqttUrl(value) ? undefined : `must be mqtt:// or mqtts://, got ${JSON.stringify(redactCredentials(value))}`),
          },
          username: { type: 'string', description: 'user name at the broker (default: the one in url, if any)' },
          passwordFile: {
            type: 'string',
            path: true,
            description: 'file holding the password at the broker (default: $SENSORKIT_MQTT_PASSWORD, else the password in url)',
            examples: ['/etc/sensorkit/mqtt-password'],
          },
          responseTopicPrefixes: {
            type: 'string-list',
            description: "topic prefixes where a command's Response Topic is honoured, besides the device's own cmd/<command>/result (default: none)",
            examples: [['plant-7/replies/']],
            check: (value) => (/[+#\u0000]/.test(value) ? `a topic prefix takes no wildcards, got ${JSON.stringify(value)}` : undefined),
          },
          batch: {
            type: 'object',
            description: 'telemetry batches: a batch closes at maxSamples samples or maxDelayMs after its first (a SIGKILL loses at most maxDelayMs of samples)',
            fields: {
              maxSamples: { type: 'integer', min: 1, max: 10_000, description: 'samples per batch at most (default: 100)' },
              maxDelayMs: { type: 'integer', min: 0, max: 60_000, description: 'longest time a sample waits for its batch, ms (default: 1000)' },
            },
          },
          tls: {
            type: 'object',
            description: 'with mqtts://: PEM files',
            fields: {
              ca: { type: 'string', path: true, description: "CA certificate(s) the broker's certificate must chain to" },
              cert: { type: 'string', path: true, description: 'client certificate, for mutual TLS (with key)' },
              key: { type: 'string', path: true, description: 'private key of cert' },
              identity: { type: 'boolean', description: 'client certificate and key from the device identity (security.identity), for mutual TLS (default: false)' },
            },
          },
        },
        rules: (mqtt, path) => {
          checkMqttTls(mqtt as MqttConfig, path);
          checkMqttCredentials(mqtt as MqttConfig, path);
        },
      },
    },
    outbox: {
      type: 'object',
      description: 'durable outbox of telemetry',
      fields: { dir: { type: 'string', path: true, description: 'its folder (default: .sensorkit/outbox/<device id>)' } },
    },
    opcua: {
      type: 'object-or-false',
      description: 'OPC UA server, or false for none (default: port 4840, dev profile)',
      object: {
        type: 'object',
        description: 'OPC UA settings',
        fields: {
          port: { type: 'integer', min: 0, max: 65_535, description: 'TCP port; 0 picks a free one (default: 4840)' },
          host: { type: 'string', description: 'address to listen on (default: 127.0.0.1 for dev, all for production)' },
          profile: { type: 'enum', values: ['dev', 'production'], description: 'dev: SecurityPolicy None and anonymous login; production: SignAndEncrypt, user login (default: dev)' },
          pki: { type: 'string', path: true, description: 'certificates: own, trusted and rejected (default: .sensorkit/pki)' },
          users: { type: 'string', path: true, description: 'users file, scrypt hashes (default: .sensorkit/opcua-users.json)' },
          x509Users: { type: 'boolean', description: 'accept X.509 user certificates trusted in <pki>/users (default: false)' },
          identity: { type: 'boolean', description: 'the device identity (an RSA one, security.identity) is the application certificate instead of <pki>/own (default: false)' },
          allowRemoteDev: { type: 'boolean', description: 'let the dev profile listen on a non-loopback host (default: false)' },
          roles: {
            type: 'object',
            description: 'roles of sessions the users file gives none (viewer, operator, engineer, security-admin)',
            fields: {
              defaultUserRole: { type: 'enum', values: OPERATOR_ROLES, description: 'role of a user without one in the users file (default: engineer)' },
              anonymous: { type: 'enum', values: OPERATOR_ROLES, description: 'role of an anonymous dev session (default: engineer)' },
              x509: { type: 'enum-map', values: OPERATOR_ROLES, description: "roles of X.509 users by their certificate's common name" },
            },
          },
        },
      },
    },
    profile: {
      type: 'enum',
      values: ['dev', 'production'],
      description: 'production: a provisioned device (identity, no default or weak credentials), signed commands, an audit log, the hardening audit at start (default: opcua.profile, else dev)',
    },
    security: {
      type: 'object',
      description: 'security controls: identity, audit trail, operators, signed commands',
      fields: {
        identity: {
          type: 'object',
          description: 'the device identity (sensorkit identity init); required under the production profile',
          fields: { dir: { type: 'string', path: true, description: 'its folder (default: .sensorkit/identity)' } },
        },
        auditLog: {
          type: 'object-or-false',
          description: 'the tamper-evident audit log, or false for none (default: on under production, off under dev)',
          object: {
            type: 'object',
            description: 'audit log settings',
            fields: {
              file: { type: 'string', path: true, description: 'the log file (default: .sensorkit/audit/<device id>.log)' },
              maxBytes: { type: 'integer', min: 1024, max: 2 ** 31, description: 'rotate before the file grows past this, bytes (default: 1048576)' },
              keep: { type: 'integer', min: 1, max: 1000, description: 'rotated files kept (default: 8)' },
              keyFile: { type: 'string', path: true, description: 'file holding the HMAC key of the chain (default: none, SHA-256)' },
              publish: { type: 'boolean', description: 'publish each record on sensorkit/v1/<device id>/audit (default: true)' },
            },
          },
        },
        operators: { type: 'string', path: true, description: 'operator trust store: who may sign commands, with which role (sensorkit operator trust)' },
        signedCommands: { type: 'boolean', description: 'require signed commands and setting writes over MQTT (default: true under production)' },
        timeSource: { type: 'enum', values: ['ntp', 'ptp', 'gnss', 'rtc', 'system'], description: 'how the wall clock is kept, for the hardening audit' },
      },
    },
    calibration: {
      type: 'object',
      description: 'signed calibration records loaded at start, checked against key and the serial number (sensorkit hil calibrate)',
      fields: {
        records: { type: 'string-list', path: true, description: 'calibration record files, or folders of them', examples: [['calibrations/']] },
        key: { type: 'string', path: true, description: 'public key (SPKI PEM) trusted to sign calibrations', examples: ['keys/calibration-public.pem'] },
      },
      rules: (value, path) => {
        if (value.key === undefined) throw new ValidationError(join2(path, 'key'), 'the public key trusted to sign calibrations is required with calibration records');
        if (value.records === undefined) throw new ValidationError(join2(path, 'records'), 'the calibration records are required with a calibration key');
      },
    },
  },
  rules: (config, path) => {
    const opcua = config.opcua as OpcuaConfig | false | undefined;
    // The OPC UA profile follows the runtime's when it names none.
    if (opcua) checkDevHost(opcua.profile ?? (config.profile as OpcuaConfig['profile']) ?? 'dev', opcua.host, opcua.allowRemoteDev === true, join2(path, 'opcua.host'));
    if (config.profile !== undefined && opcua && opcua.profile !== undefined && opcua.profile !== config.profile) {
      throw new ValidationError(join2(path, 'opcua.profile'), `${opcua.profile} contradicts profile ${String(config.profile)}`);
    }
    const mqtt = config.mqtt as MqttConfig | false | undefined;
    if (mqtt && mqtt.tls?.identity === true && (mqtt.tls.cert !== undefined || mqtt.tls.key !== undefined)) {
      throw new ValidationError(join2(path, `mqtt.tls.${mqtt.tls.cert !== undefined ? 'cert' : 'key'}`), 'given with tls.identity: the identity supplies the certificate and key');
    }
  },
};

function join2(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Checks a configuration (as parsed from JSON, or as a file exported it); returns a copy with its
 * relative paths passed through `resolvePath`. Throws `ValidationError` naming the bad field.
 *
 * @example
 * ```ts
 * checkConfig({ mqtt: { url: 'http://x' } }) // throws 'mqtt.url: must be mqtt:// or mqtts://, got "http://x"'
 * ```
 */
export function checkConfig(config: unknown, resolvePath?: (path: string) => string): RuntimeConfig {
  const checked = checkSettings(CONFIG_SCHEMA, config, '', resolvePath) as RuntimeConfig & { $schema?: string };
  const { $schema: _schema, ...rest } = checked;
  return rest;
}

/**
 * The JSON Schema of `sensorkit.config.json`.
 *
 * @example
 * ```ts
 * writeFileSync('sensorkit.config.schema.json', JSON.stringify(configJsonSchema(), null, 2))
 * ```
 */
export function configJsonSchema(): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'sensorkit.config.json', ...settingsJsonSchema(CONFIG_SCHEMA) };
}

function isMqttUrl(value: string): boolean {
  try {
    return MQTT_SCHEMES.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Credentials are for an external broker: the embedded one takes none. */
function checkMqttCredentials(mqtt: MqttConfig, path: string): void {
  const given = (['username', 'passwordFile'] as const).find((name) => mqtt[name] !== undefined);
  if (given !== undefined && mqtt.url === undefined) throw new ValidationError(`${path}.${given}`, 'needs a broker url (the embedded broker takes no credentials)');
}

/** TLS files need an mqtts:// URL (an embedded broker speaks plain MQTT); a certificate needs its key. */
function checkMqttTls(mqtt: MqttConfig, path: string): void {
  const tls = mqtt.tls;
  if (tls === undefined) return;
  const given = (['ca', 'cert', 'key', 'identity'] as const).find((name) => tls[name] !== undefined && tls[name] !== false);
  if (given === undefined) return;
  if (!mqtt.url?.startsWith('mqtts://')) throw new ValidationError(`${path}.tls.${given}`, 'needs an mqtts:// url');
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new ValidationError(`${path}.tls.${tls.cert === undefined ? 'key' : 'cert'}`, 'cert and key go together');
}
