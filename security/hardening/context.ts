/**
 * What the checks read, gathered once per audit: the configuration with the runtime's defaults
 * filled in (an embedded broker, OPC UA with the `dev` profile on 127.0.0.1), the node flags,
 * and the files the configuration names, read through an injectable file system and cached.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyAuditLog } from '../audit-log.js';
import { DEFAULT_IDENTITY_DIR, identityFiles } from '../identity/identity.js';
import { readCertificates, type CertificateFacts } from './certificates.js';
import type { AuditedConfig, AuditFileSystem, AuditLogCheck, AuditOptions, HardeningProfile } from './types.js';

/** A file as the audit saw it. */
export interface FileFacts {
  readonly path: string;
  readonly exists: boolean;
  /** Permission bits, when it exists. */
  readonly mode?: number;
  /** Content, when read ({@link AuditContext.read}) and it could be. */
  readonly bytes?: Uint8Array;
  /** Why it could not be read. */
  readonly error?: string;
}

/** A certificate file a setting names, and what it holds. */
export interface CertificateFile {
  readonly setting: string;
  readonly file: string;
  readonly certificates?: readonly CertificateFacts[];
  readonly problem?: string;
}

/** The local file system, as the audit uses it. */
export const NODE_AUDIT_FS: AuditFileSystem & { readdir(path: string): Promise<string[]> } = {
  readFile: async (path) => readFile(path),
  stat: async (path) => {
    const info = await stat(path);
    return { mode: info.mode & 0o7777, isFile: info.isFile(), size: info.size };
  },
  readdir: async (path) => readdir(path),
};

/** Where the runtime keeps OPC UA certificates and users when the configuration does not say. */
export const DEFAULT_OPCUA_PKI = '.sensorkit/pki';
export const DEFAULT_OPCUA_USERS = '.sensorkit/opcua-users.json';
/** Where the runtime keeps its audit logs (`<device id>.log`) under the production profile when the configuration names no file. */
export const DEFAULT_AUDIT_LOG_DIR = '.sensorkit/audit';

/** Largest file the audit reads, bytes: keys, certificates, users and trust lists are far smaller. */
const MAX_READ_BYTES = 4 * 1024 * 1024;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;
const WILDCARD = /^(0\.0\.0\.0|::|\[::\]|\*)?$/;

/**
 * Whether a host names only this machine.
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.1') // true
 * isLoopback('192.0.2.10') // false
 * ```
 */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * Whether a listening address is every interface (empty, 0.0.0.0, ::).
 *
 * @example
 * ```ts
 * isWildcard('0.0.0.0') // true
 * ```
 */
export function isWildcard(host: string): boolean {
  return WILDCARD.test(host);
}

/**
 * The inputs of every check: the configuration with the runtime's defaults, the profile, the
 * environment, and the files read once through the file system.
 *
 * @example
 * ```ts
 * const context = new AuditContext({ mqtt: { url: 'mqtts://broker:8883' } }, { profile: 'production' })
 * context.opcua?.profile // 'production': OPC UA takes the profile when the configuration does not set one
 * ```
 */
export class AuditContext {
  readonly config: AuditedConfig;
  readonly profile: HardeningProfile;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** NODE_OPTIONS split, then the node flags of the process. */
  readonly nodeFlags: readonly string[];
  readonly now: number;
  readonly uid: number | undefined;
  readonly options: AuditOptions;
  readonly #fs: AuditFileSystem;
  readonly #files = new Map<string, Promise<FileFacts>>();
  readonly #contents = new Map<string, Promise<FileFacts>>();

  constructor(config: AuditedConfig, options: AuditOptions) {
    this.config = config;
    this.options = options;
    const opcua = config.opcua === false ? undefined : config.opcua;
    this.profile = options.profile ?? config.profile ?? opcua?.profile ?? 'dev';
    this.env = options.env ?? process.env;
    this.nodeFlags = [...(this.env.NODE_OPTIONS ?? '').split(/\s+/).filter((flag) => flag !== ''), ...(options.execArgv ?? process.execArgv)];
    this.now = options.now ?? Date.now();
    this.uid = 'uid' in options ? options.uid : process.getuid?.();
    this.#fs = options.fs ?? NODE_AUDIT_FS;
  }

  /** MQTT as it would run: off, the embedded broker, or a broker URL. */
  get mqtt(): { readonly kind: 'off' } | { readonly kind: 'embedded' } | { readonly kind: 'broker'; readonly url: URL } {
    const mqtt = this.config.mqtt;
    if (mqtt === false) return { kind: 'off' };
    if (mqtt?.url === undefined) return { kind: 'embedded' };
    try {
      return { kind: 'broker', url: new URL(mqtt.url) };
    } catch {
      return { kind: 'broker', url: new URL('mqtt://invalid') };
    }
  }

  /** OPC UA as it would run, with the runtime's defaults, or undefined when off. */
  get opcua(): { profile: HardeningProfile; host: string; users: string; pki: string; x509Users: boolean; allowRemoteDev: boolean; securityPolicies?: readonly string[]; allowAnonymous?: boolean } | undefined {
    const opcua = this.config.opcua;
    if (opcua === false) return undefined;
    // The runtime gives OPC UA its own profile when the configuration does not set one.
    const profile = opcua?.profile ?? this.profile;
    return {
      profile,
      host: opcua?.host ?? (profile === 'dev' ? '127.0.0.1' : '0.0.0.0'),
      users: opcua?.users ?? DEFAULT_OPCUA_USERS,
      pki: opcua?.pki ?? DEFAULT_OPCUA_PKI,
      x509Users: opcua?.x509Users ?? false,
      allowRemoteDev: opcua?.allowRemoteDev ?? false,
      ...(opcua?.securityPolicies === undefined ? {} : { securityPolicies: opcua.securityPolicies }),
      ...(opcua?.allowAnonymous === undefined ? {} : { allowAnonymous: opcua.allowAnonymous }),
    };
  }

  /** Whether the device keeps an audit log: as configured, else the runtime's default (on under production). */
  get auditLogOn(): boolean {
    const log = this.config.security?.auditLog;
    return log === undefined ? this.profile === 'production' : log !== false;
  }

  /**
   * The audit log files there are to check: the configured file, else the logs in the runtime's
   * default folder (`.sensorkit/audit/<device id>.log`, rotated files and heads left out).
   */
  async auditLogFiles(): Promise<string[]> {
    if (!this.auditLogOn) return [];
    const log = this.config.security?.auditLog;
    const file = typeof log === 'string' ? log : typeof log === 'object' && log !== null ? (log.file ?? log.path) : undefined;
    if (file !== undefined) return [file];
    return (await this.list(DEFAULT_AUDIT_LOG_DIR)).filter((name) => name.endsWith('.log')).map((name) => join(DEFAULT_AUDIT_LOG_DIR, name));
  }

  /** The HMAC key file of the audit log's chain, if it has one. */
  get auditLogKeyFile(): string | undefined {
    const log = this.config.security?.auditLog;
    return typeof log === 'object' && log !== null ? log.keyFile : undefined;
  }

  /** Whether unsigned commands are refused: the setting, else the runtime's default (required under production). */
  get signedCommandsRequired(): boolean {
    const signed = this.config.security?.signedCommands;
    if (signed === undefined) return this.profile === 'production';
    return signed === true || signed === 'required';
  }

  /**
   * The identity's key and certificate files: as configured, from the configured folder, or from
   * the runtime's default folder; undefined when turned off. An encrypted key (`key.enc.json`) is
   * taken when there is no `key.pem`.
   */
  async identityFiles(): Promise<{ key: string; cert: string; source: string } | undefined> {
    const identity = this.config.security?.identity;
    if (identity === false) return undefined;
    if (identity?.key !== undefined && identity.cert !== undefined) return { key: identity.key, cert: identity.cert, source: 'security.identity' };
    const dir = identity?.dir ?? DEFAULT_IDENTITY_DIR;
    const files = identityFiles(dir);
    const plain = await this.file(files.keyFile);
    const key = plain.exists || !(await this.file(files.encryptedKeyFile)).exists ? files.keyFile : files.encryptedKeyFile;
    return { key, cert: files.certificateFile, source: identity?.dir === undefined ? `the default identity folder ${dir}` : `security.identity.dir ${dir}` };
  }

  /** The MQTT client certificate and key: configured, or the identity's with `tls.identity`. */
  async mqttClientCertificate(): Promise<{ cert: string; key: string } | undefined> {
    const tls = this.config.mqtt === false ? undefined : this.config.mqtt?.tls;
    if (tls?.cert !== undefined && tls.key !== undefined) return { cert: tls.cert, key: tls.key };
    if (tls?.identity !== true) return undefined;
    return this.identityFiles();
  }

  /** A file's existence and mode (looked at once); its content is not read. */
  file(path: string): Promise<FileFacts> {
    let facts = this.#files.get(path);
    if (facts === undefined) {
      facts = this.#stat(path);
      this.#files.set(path, facts);
    }
    return facts;
  }

  /** A file's existence, mode and content (read once; not a regular file or above 4 MiB: not read). */
  read(path: string): Promise<FileFacts> {
    let facts = this.#contents.get(path);
    if (facts === undefined) {
      facts = this.#read(path);
      this.#contents.set(path, facts);
    }
    return facts;
  }

  async #stat(path: string): Promise<FileFacts & { size?: number }> {
    try {
      const info = await this.#fs.stat(path);
      if (!info.isFile) return { path, exists: true, mode: info.mode, error: 'not a regular file' };
      return { path, exists: true, mode: info.mode, ...(info.size === undefined ? {} : { size: info.size }) };
    } catch {
      return { path, exists: false, error: 'no such file' };
    }
  }

  async #read(path: string): Promise<FileFacts> {
    const facts = (await this.file(path)) as FileFacts & { size?: number };
    if (!facts.exists || facts.error !== undefined) return facts;
    const { size: _size, ...rest } = facts;
    if (facts.size !== undefined && facts.size > MAX_READ_BYTES) return { ...rest, error: `larger than ${MAX_READ_BYTES} bytes` };
    try {
      return { ...rest, bytes: await this.#fs.readFile(path) };
    } catch (error) {
      return { ...rest, error: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
    }
  }

  /** Entries of a folder, when the file system can list them. */
  async list(dir: string): Promise<string[]> {
    const fs = this.#fs as Partial<{ readdir(path: string): Promise<string[]> }>;
    if (fs.readdir === undefined) return [];
    try {
      return (await fs.readdir(dir)).sort();
    } catch {
      return [];
    }
  }

  /** Every certificate file the configuration uses, parsed. */
  async certificateFiles(): Promise<CertificateFile[]> {
    const named: { setting: string; file: string }[] = [];
    const identity = await this.identityFiles();
    if (identity !== undefined && (await this.file(identity.cert)).exists) named.push({ setting: 'security.identity', file: identity.cert });
    const mqtt = this.config.mqtt === false ? undefined : this.config.mqtt;
    if (mqtt?.tls?.cert !== undefined) named.push({ setting: 'mqtt.tls.cert', file: mqtt.tls.cert });
    if (mqtt?.tls?.ca !== undefined) named.push({ setting: 'mqtt.tls.ca', file: mqtt.tls.ca });
    const server = this.config.updateServer;
    if (server?.tls?.cert !== undefined) named.push({ setting: 'updateServer.tls.cert', file: server.tls.cert });
    if (server?.tls?.clientCa !== undefined) named.push({ setting: 'updateServer.tls.clientCa', file: server.tls.clientCa });
    const opcua = this.opcua;
    if (opcua !== undefined) {
      const own = join(opcua.pki, 'own', 'certs');
      for (const name of await this.list(own)) if (/\.(pem|der|crt)$/i.test(name)) named.push({ setting: 'opcua.pki', file: join(own, name) });
    }
    const unique = named.filter((entry, i) => named.findIndex((other) => other.file === entry.file) === i);
    return Promise.all(
      unique.map(async ({ setting, file }) => {
        const facts = await this.read(file);
        if (facts.bytes === undefined) return { setting, file, problem: facts.error ?? 'cannot read' };
        try {
          return { setting, file, certificates: readCertificates(facts.bytes) };
        } catch {
          return { setting, file, problem: 'holds no X.509 certificate' };
        }
      }),
    );
  }

  /** Every private key file the configuration uses (OPC UA's only once created). */
  async privateKeyFiles(): Promise<{ setting: string; file: string }[]> {
    const keys: { setting: string; file: string }[] = [];
    const identity = await this.identityFiles();
    if (identity !== undefined) keys.push({ setting: 'security.identity', file: identity.key });
    const mqtt = this.config.mqtt === false ? undefined : this.config.mqtt;
    if (mqtt?.tls?.key !== undefined) keys.push({ setting: 'mqtt.tls.key', file: mqtt.tls.key });
    if (this.config.updateServer?.tls?.key !== undefined) keys.push({ setting: 'updateServer.tls.key', file: this.config.updateServer.tls.key });
    const opcua = this.opcua;
    if (opcua !== undefined) keys.push({ setting: 'opcua.pki', file: join(opcua.pki, 'own', 'private', 'private_key.pem') });
    return keys.filter((entry, i) => keys.findIndex((other) => other.file === entry.file) === i);
  }

  /** Verifies the configured audit log (the injected verifier, else the audit log's own). */
  async verifyAuditLog(file: string): Promise<AuditLogCheck> {
    const keyFile = this.auditLogKeyFile;
    const key = keyFile === undefined ? undefined : (await this.read(keyFile)).bytes;
    if (keyFile !== undefined && key === undefined) return { ok: false, reason: `its key file ${keyFile} cannot be read` };
    if (this.options.verifyAuditLog) return this.options.verifyAuditLog(file, key);
    const result = await verifyAuditLog(file, key === undefined ? {} : { key });
    return result.ok ? { ok: true } : { ok: false, reason: `record ${result.line}: ${result.reason}` };
  }
}
