/**
 * The signed-request check in front of `cmd/<command>` and `property/<id>/set`: reads a request
 * (`presentRequest`), asks the authorizer, and records every refusal and every signed action in
 * the audit sink (IEC 62443-4-2 CR 2.8 auditable events). With `required` (the production
 * profile) an unsigned request is refused; without it (development) an unsigned request passes as
 * before and a signed one is still checked.
 */
import type { DeviceAction, OperatorRole } from '../../model/index.js';
import type { AuditSink } from '../../../security/audit/event.js';
import type { Authorization, AuthorizationTarget, AuthorizedOperator, PresentedRequest, RefusalReason, RequestScalar } from '../../../security/operators/index.js';
import { looksSigned, presentRequest } from './signed-request.js';

/** What checks a presented request: a `CommandAuthorizer` satisfies it. */
export interface RequestAuthorizer {
  authorize(request: PresentedRequest, target: AuthorizationTarget): Authorization;
}

/** Signed-request options of the MQTT transport. */
export interface SignedRequestOptions {
  /** The authorizer (a `CommandAuthorizer` over the operator trust store). */
  readonly authorizer: RequestAuthorizer;
  /** Refuse unsigned requests (the production profile). Default true. */
  readonly required?: boolean;
}

/** The outcome of {@link RequestGuard.check}. */
export type GuardOutcome =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'granted'; readonly operator: AuthorizedOperator; readonly args: Readonly<Record<string, RequestScalar>> }
  | { readonly kind: 'refused'; readonly reason: RefusalReason; readonly message: string };

/**
 * @example
 * ```ts
 * const guard = new RequestGuard({ signed: { authorizer, required: true }, deviceId, requiredRole: (action) => requiredRole(model, action), audit })
 * const outcome = guard.check(payload, contentType, { kind: 'command', id: 'reset' }, 4096)
 * ```
 */
export class RequestGuard {
  readonly #authorizer: RequestAuthorizer;
  readonly #required: boolean;
  readonly #deviceId: string;
  readonly #requiredRole: (action: DeviceAction) => OperatorRole;
  readonly #audit: AuditSink | undefined;
  #refused = 0;

  constructor(options: { signed: SignedRequestOptions; deviceId: string; requiredRole: (action: DeviceAction) => OperatorRole; audit?: AuditSink }) {
    this.#authorizer = options.signed.authorizer;
    this.#required = options.signed.required ?? true;
    this.#deviceId = options.deviceId;
    this.#requiredRole = options.requiredRole;
    this.#audit = options.audit;
  }

  /** Requests refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /** Checks one request; records a refusal. Never throws. */
  check(payload: Uint8Array, contentType: string | undefined, action: DeviceAction, maxBytes: number): GuardOutcome {
    if (!this.#required && !looksSigned(payload, contentType)) return { kind: 'unsigned' };
    const presented = payload.length > maxBytes ? { kind: 'malformed' as const, message: `request of ${payload.length} bytes is above the limit of ${maxBytes}` } : presentRequest(payload, contentType, { maxBytes });
    const decision = this.#authorizer.authorize(presented, { deviceId: this.#deviceId, action: action.kind === 'command' ? 'cmd' : 'set', id: action.id, requiredRole: this.#requiredRole(action) });
    if (decision.ok) return { kind: 'granted', operator: decision.operator, args: decision.args };
    this.#refused++;
    this.#record(action, 'denied', decision.operator?.name ?? decision.keyId, { reason: decision.reason, message: decision.message, ...(decision.keyId === undefined ? {} : { keyId: decision.keyId }) });
    return { kind: 'refused', reason: decision.reason, message: decision.message };
  }

  /** Records the outcome of a granted action. */
  done(action: DeviceAction, operator: AuthorizedOperator, result: 'success' | 'failure', detail: Readonly<Record<string, unknown>> = {}): void {
    this.#record(action, result, operator.name, { keyId: operator.keyId, role: operator.role, ...detail });
  }

  #record(action: DeviceAction, result: 'success' | 'failure' | 'denied', actor: string | undefined, detail: Readonly<Record<string, unknown>>): void {
    if (this.#audit === undefined) return;
    const event = {
      category: action.kind === 'command' ? ('command' as const) : ('setting' as const),
      event: action.kind === 'command' ? 'mqtt.command' : 'mqtt.setting',
      result,
      source: 'mqtt',
      ...(actor === undefined ? {} : { actor }),
      detail: { [action.kind]: action.id.slice(0, 64), ...detail },
    };
    try {
      const pending = this.#audit.record(event);
      if (pending instanceof Promise) pending.catch(() => undefined);
    } catch {
      // The audit sink's own failure (a full disk) must not stop the device; the sink reports it.
    }
  }
}
