/**
 * Roles on OPC UA method calls and setting writes (IEC 62443-4-2 CR 2.1 authorisation
 * enforcement): each session has the role of its user (the users file's `role`, the X.509 user's
 * mapped role, or the server's defaults), and each command and setting needs the role the model
 * says (default operator for commands, engineer for settings). A call or write below it is
 * refused with BadUserAccessDenied (IEC 62541-4 §7.39) and recorded in the audit sink; one that
 * passes is recorded with its outcome.
 */
import { AnonymousIdentityToken, UserNameIdentityToken, X509IdentityToken, type ISessionContext } from 'node-opcua';
import type { AuditSink } from '../../../security/audit/event.js';
import { requiredRole, roleAllows, type DeviceAction } from '../../model/roles.js';
import type { DeviceModel } from '../../model/define-device.js';
import type { OperatorRole } from '../../model/spec.js';

/** Where the roles of sessions come from; every field has a default. */
export interface OpcuaRoleOptions {
  /** The role of a user whom the users file (or `x509`) gives none. Default `engineer`. */
  readonly defaultUserRole?: OperatorRole;
  /** The role of an anonymous session (the `dev` profile only). Default `engineer`. */
  readonly anonymous?: OperatorRole;
  /** Roles of X.509 users by their certificate's common name. */
  readonly x509?: Readonly<Record<string, OperatorRole>>;
}

/** Who a session is, and its role. */
export interface SessionActor {
  readonly actor: string;
  readonly role: OperatorRole;
}

/** The decision on one call or write. */
export type AccessDecision = ({ readonly allowed: true } | { readonly allowed: false; readonly needed: OperatorRole }) & SessionActor;

/**
 * @example
 * ```ts
 * const access = new OpcuaAccess({ model, roleOfUser: (name) => users.roleOf(name), audit })
 * const decision = access.check(context, { kind: 'command', id: 'reset' })
 * if (!decision.allowed) return { statusCode: StatusCodes.BadUserAccessDenied }
 * ```
 */
export class OpcuaAccess {
  readonly #model: Pick<DeviceModel, 'commands' | 'properties'>;
  readonly #roleOfUser: (name: string) => OperatorRole | undefined;
  readonly #options: OpcuaRoleOptions;
  readonly #audit: AuditSink | undefined;

  constructor(options: { model: Pick<DeviceModel, 'commands' | 'properties'>; roleOfUser?: (name: string) => OperatorRole | undefined; roles?: OpcuaRoleOptions; audit?: AuditSink }) {
    this.#model = options.model;
    this.#roleOfUser = options.roleOfUser ?? (() => undefined);
    this.#options = options.roles ?? {};
    this.#audit = options.audit;
  }

  /** The user and role of a session. A call without a session is the server's own (in-process). */
  sessionActor(context: ISessionContext | undefined): SessionActor {
    const session = context?.session;
    if (context === undefined || session === undefined) return { actor: 'device', role: 'security-admin' };
    const token = session.userIdentityToken;
    if (token instanceof AnonymousIdentityToken) return { actor: 'anonymous', role: this.#options.anonymous ?? 'engineer' };
    if (token instanceof UserNameIdentityToken) {
      const name = typeof token.userName === 'string' ? token.userName : '';
      return { actor: name.slice(0, 64) || 'unnamed', role: this.#roleOfUser(name) ?? this.#options.defaultUserRole ?? 'engineer' };
    }
    if (token instanceof X509IdentityToken) {
      const name = safeUserName(context);
      return { actor: `x509:${name.slice(0, 64)}`, role: this.#options.x509?.[name] ?? this.#options.defaultUserRole ?? 'engineer' };
    }
    // A session that was never activated: the least role.
    return { actor: 'unauthenticated', role: 'viewer' };
  }

  /** Decides on a call or write; records a refusal. */
  check(context: ISessionContext | undefined, action: DeviceAction): AccessDecision {
    const who = this.sessionActor(context);
    const needed = requiredRole(this.#model, action);
    if (roleAllows(who.role, needed)) return { allowed: true, ...who };
    this.record(action, who, 'denied', { role: who.role, needed });
    return { allowed: false, needed, ...who };
  }

  /** Records a call's or write's outcome. */
  record(action: DeviceAction, who: SessionActor, result: 'success' | 'failure' | 'denied', detail: Readonly<Record<string, unknown>> = {}): void {
    if (this.#audit === undefined) return;
    try {
      const pending = this.#audit.record({
        category: action.kind === 'command' ? 'command' : 'setting',
        event: action.kind === 'command' ? 'opcua.call' : 'opcua.write',
        result,
        source: 'opcua',
        actor: who.actor,
        detail: { [action.kind]: action.id, role: who.role, ...detail },
      });
      if (pending instanceof Promise) pending.catch(() => undefined);
    } catch {
      // The sink's own failure (a full disk) must not fail the call; the sink reports it.
    }
  }
}

function safeUserName(context: ISessionContext): string {
  try {
    return context.getUserName();
  } catch {
    return 'unknown';
  }
}
