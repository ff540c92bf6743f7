/**
 * The signed-request check in front of `cmd/<command>` and `property/<id>/set`: reads a request
 * (`presentRequest`), asks the authorizer, and records every refusal and every signed action in
 * the audit sink (IEC 62443-4-2 CR 2.8 auditable events). With `required` (the production
 * profile) an unsigned request is refused; without it (development), or without an authorizer at
 * all (no operator trust store), an unsigned request passes as before, a signed one is still
 * checked where there is an authorizer, and the outcome of every unsigned action is recorded too,
 * with the actor `unsigned` (`unsigned()`): every command and setting write is an audit record.
 *
 * A signature check costs far more than a reply (0.1–0.4 ms, against microseconds), and a burst of
 * them runs back to back in one turn of the event loop: so signed requests spend a token of their
 * own, smaller bucket (10 at once, then 20/s by default) before they are checked, and one without a
 * token is ignored unread, as the command server ignores requests beyond its reply bucket. A flood
 * of signed requests then holds the event loop for a few milliseconds at most, and sampling keeps
 * its cadence.
 */
import type { DeviceAction, OperatorRole } from '../../model/index.js';
import type { AuditSink } from '../../../security/audit/event.js';
import type { Authorization, AuthorizationTarget, AuthorizedOperator, PresentedRequest, RefusalReason, RequestScalar } from '../../../security/operators/index.js';
import type { Clock } from '../../core/clock.js';
import { looksSigned, presentRequest } from './signed-request.js';
import { TokenBucket } from './token-bucket.js';

/** The actor of an audit record of an unsigned command or setting write. */
export const UNSIGNED_ACTOR = 'unsigned';

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
  /** Signed requests checked per second, sustained; more are ignored unread. Default 20. */
  readonly checksPerSecond?: number;
  /** Signed requests checked in a burst. Default 10. */
  readonly checkBurst?: number;
}

/** The outcome of {@link RequestGuard.check}. */
export type GuardOutcome =
  | { readonly kind: 'unsigned' }
  /** A signed request beyond the check bucket: not read, not answered. */
  | { readonly kind: 'ignored' }
  | { readonly kind: 'granted'; readonly operator: AuthorizedOperator; readonly args: Readonly<Record<string, RequestScalar>> }
  | { readonly kind: 'refused'; readonly reason: RefusalReason; readonly message: string };

/**
 * @example
 * ```ts
 * const guard = new RequestGuard({ signed: { authorizer, required: true }, clock, deviceId, requiredRole: (action) => requiredRole(model, action), audit })
 * const outcome = guard.check(payload, contentType, { kind: 'command', id: 'reset' }, 4096)
 * ```
 */
export class RequestGuard {
  readonly #authorizer: RequestAuthorizer | undefined;
  readonly #required: boolean;
  readonly #deviceId: string;
  readonly #requiredRole: (action: DeviceAction) => OperatorRole;
  readonly #audit: AuditSink | undefined;
  readonly #checks: TokenBucket;
  #refused = 0;

  /** Without `signed` (no operator trust store) every request is unsigned: it passes, and its outcome is recorded. */
  constructor(options: { signed?: SignedRequestOptions | undefined; clock: Clock; deviceId: string; requiredRole: (action: DeviceAction) => OperatorRole; audit?: AuditSink }) {
    this.#authorizer = options.signed?.authorizer;
    this.#checks = new TokenBucket({ clock: options.clock, ratePerSecond: options.signed?.checksPerSecond ?? 20, burst: options.signed?.checkBurst ?? 10 });
    this.#required = options.signed === undefined ? false : (options.signed.required ?? true);
    this.#deviceId = options.deviceId;
    this.#requiredRole = options.requiredRole;
    this.#audit = options.audit;
  }

  /** Requests refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /** Checks one request; records a refusal. Never throws. A signed request beyond the check bucket is `ignored`. */
  check(payload: Uint8Array, contentType: string | undefined, action: DeviceAction, maxBytes: number): GuardOutcome {
    const authorizer = this.#authorizer;
    if (authorizer === undefined) return { kind: 'unsigned' };
    const signed = looksSigned(payload, contentType);
    if (!this.#required && !signed) return { kind: 'unsigned' };
    if (signed && !this.#checks.take()) return { kind: 'ignored' };
    const presented = payload.length > maxBytes ? { kind: 'malformed' as const, message: `request of ${payload.length} bytes is above the limit of ${maxBytes}` } : presentRequest(payload, contentType, { maxBytes });
    const decision = authorizer.authorize(presented, { deviceId: this.#deviceId, action: action.kind === 'command' ? 'cmd' : 'set', id: action.id, requiredRole: this.#requiredRole(action) });
    if (decision.ok) return { kind: 'granted', operator: decision.operator, args: decision.args };
    this.#refused++;
    this.#record(action, 'denied', decision.operator?.name ?? decision.keyId, { reason: decision.reason, message: decision.message, ...(decision.keyId === undefined ? {} : { keyId: decision.keyId }) });
    return { kind: 'refused', reason: decision.reason, message: decision.message };
  }

  /** Records the outcome of a granted action. */
  done(action: DeviceAction, operator: AuthorizedOperator, result: 'success' | 'failure', detail: Readonly<Record<string, unknown>> = {}): void {
    this.#record(action, result, operator.name, { keyId: operator.keyId, role: operator.role, ...detail });
  }

  /**
   * Records the outcome of an unsigned action that was let through (development: signed requests
   * not required): the actor is `unsigned`, the detail says `signed: false`.
   */
  unsigned(action: DeviceAction, result: 'success' | 'failure', detail: Readonly<Record<string, unknown>> = {}): void {
    this.#record(action, result, UNSIGNED_ACTOR, { signed: false, ...detail });
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
