/**
 * The vocabulary of the hardening audit: a rule (what it checks, how bad a failure is, which
 * requirements of IEC 62443-4-2, ETSI EN 303 645, NIST IR 8259A and the KISA guidance it stands
 * for), a finding (one failure of one rule), and the configuration it reads.
 */

/** How bad a finding is, worst first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;

export type Severity = (typeof SEVERITIES)[number];

/** The profile the device is meant to run under: `dev` on a desk, `production` in a plant. */
export type HardeningProfile = 'dev' | 'production';

/** The device cybersecurity capabilities of NIST IR 8259A. */
export type NistCapability =
  | 'Device Identification'
  | 'Device Configuration'
  | 'Data Protection'
  | 'Logical Access to Interfaces'
  | 'Software Update'
  | 'Cybersecurity State Awareness';

/**
 * One IEC 62443-4-2 component requirement: `CR 1.7`, `EDR 2.13`, a requirement enhancement
 * `CR 2.11 RE1`, with its name and the lowest security level (SL-C 1–4) that asks for it.
 */
export interface IecRequirement {
  readonly id: string;
  readonly name: string;
  readonly sl: 1 | 2 | 3 | 4;
}

/** A rule of the catalogue. */
export interface HardeningRule {
  /** `SK-<AREA>-<NNN>`, stable: SARIF results and suppressions refer to it. */
  readonly id: string;
  /** One line: what is wrong when it fails. */
  readonly title: string;
  readonly severity: Severity;
  /** The IEC 62443-4-2 requirements it checks, the first the main one. */
  readonly iec62443: readonly IecRequirement[];
  /** ETSI EN 303 645 provisions, e.g. `5.1-1`. */
  readonly etsi: readonly string[];
  readonly nist: NistCapability;
  /** The area of KISA's IoT and smart-factory security guidance. */
  readonly kisa: string;
  /** What the rule looks at. */
  readonly checks: string;
  /** How to make it pass. */
  readonly fix: string;
  /** The profiles it applies to: a development setting is a finding only under `production`. */
  readonly profiles: readonly HardeningProfile[];
}

/** One failure of one rule. */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly title: string;
  /** What was found, one line, naming the setting or file. */
  readonly message: string;
  /** The setting at fault, dotted (`mqtt.url`), when one is. */
  readonly setting?: string;
  /** The file at fault, when one is. */
  readonly file?: string;
}

/** What a rule's check reports: the message, and where. */
export interface Problem {
  readonly message: string;
  readonly setting?: string;
  readonly file?: string;
}

/**
 * The configuration the audit reads: the runtime's configuration (`sensorkit.config.json`) and the
 * settings of the security services beside it. Everything is optional: an absent setting is the
 * default `sensorkit run` has (an embedded broker, OPC UA with the `dev` profile), an absent
 * security service is "not configured".
 */
export interface AuditedConfig {
  /** The profile the configuration declares, if it does; else `opcua.profile`. */
  readonly profile?: HardeningProfile;
  readonly device?: string;
  readonly board?: string;
  readonly mqtt?:
    | false
    | {
        readonly url?: string;
        readonly username?: string;
        readonly passwordFile?: string;
        /** `identity: true`: the client certificate and key are the device identity's. */
        readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly identity?: boolean; readonly rejectUnauthorized?: boolean; readonly minVersion?: string };
      };
  readonly opcua?:
    | false
    | {
        readonly port?: number;
        readonly host?: string;
        /** Default: the audited profile (the runtime gives OPC UA its profile). */
        readonly profile?: HardeningProfile;
        readonly pki?: string;
        readonly users?: string;
        readonly x509Users?: boolean;
        readonly allowRemoteDev?: boolean;
        /** The security policies offered, when a configuration names them (IEC 62541-7 names). */
        readonly securityPolicies?: readonly string[];
        readonly allowAnonymous?: boolean;
      };
  readonly security?: {
    /**
     * The device's key and certificate (PEM): the files, or the identity folder (`key.pem` or
     * `key.enc.json`, and `cert.pem`). Default: the folder `.sensorkit/identity`.
     */
    readonly identity?: { readonly key?: string; readonly cert?: string; readonly dir?: string } | false;
    /** The operator trust store file. */
    readonly operators?: string | false;
    /** Whether MQTT commands and setting writes must be COSE_Sign1-signed by a trusted operator. Default: required under production. */
    readonly signedCommands?: boolean | 'required' | 'optional' | 'off';
    /**
     * The audit log file, or `{ file, keyFile }` (`keyFile`: the HMAC key of its chain), or false.
     * Default: `.sensorkit/audit/<device id>.log` under production (every `.log` there is checked), none under dev.
     */
    readonly auditLog?: string | false | { readonly file?: string; readonly path?: string; readonly keyFile?: string };
    /** How the wall clock is kept: `ntp`, `ptp`, `gnss`, `rtc`, `system` (the host synchronises it). */
    readonly timeSource?: string | false;
  };
  /** The device's update agent. */
  readonly ota?: { readonly trustAnchors?: string; readonly allowUnsigned?: boolean; readonly allowDowngrade?: boolean } | false;
  /** The update server (`sensorkit ota serve`), when this configuration describes one. */
  readonly updateServer?: {
    readonly host?: string;
    readonly adminTokens?: string;
    readonly tls?: { readonly cert?: string; readonly key?: string; readonly clientCa?: string };
  };
}

/** The file-system calls the audit makes; the local file system by default, a table in tests. */
export interface AuditFileSystem {
  /** The file's bytes; rejects (any error) when it cannot be read. */
  readFile(path: string): Promise<Uint8Array>;
  /** Mode bits (`0o600`), kind and size in bytes (when known); rejects when there is no such file. */
  stat(path: string): Promise<{ readonly mode: number; readonly isFile: boolean; readonly size?: number }>;
}

/** The outcome of verifying an audit log file. */
export interface AuditLogCheck {
  readonly ok: boolean;
  /** Why not, with the record (line) where it breaks. */
  readonly reason?: string;
}

/** Options of `auditConfiguration`. */
export interface AuditOptions {
  /** The profile to judge against. Default: the configuration's `profile`, else `opcua.profile`, else `dev`. */
  readonly profile?: HardeningProfile;
  /** The environment the device would run with (NODE_OPTIONS, NODE_TLS_REJECT_UNAUTHORIZED, DEBUG, SENSORKIT_MQTT_PASSWORD). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Node's own flags of the process that would run it. Default `process.execArgv`. */
  readonly execArgv?: readonly string[];
  /** Default: the local file system. */
  readonly fs?: AuditFileSystem;
  /** The time certificates are judged at, ms since the epoch. Default now. */
  readonly now?: number;
  /** The user id the device would run as. Default `process.getuid()`, undefined where there is none. */
  readonly uid?: number;
  /**
   * Why a password must not be used, or undefined: the OPC UA server's own check
   * (`passwordProblem` of the transport) where the caller has it. Default: a small built-in one
   * (empty, shorter than 8, a well-known default, the user name).
   */
  readonly passwordProblem?: (user: string, password: string) => string | undefined;
  /** Verifies an audit log file (with its HMAC key, when it has one). Default `verifyAuditLog` of the audit log. */
  readonly verifyAuditLog?: (file: string, key?: Uint8Array) => Promise<AuditLogCheck>;
}
