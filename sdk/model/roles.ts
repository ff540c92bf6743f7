/**
 * Roles of the people who act on a device and what each action needs (IEC 62443-4-2 CR 2.1:
 * authorisation enforcement; CR 1.1/1.2: identified and authenticated users). The model says which
 * role each command and setting needs; the transports check it on every signed MQTT request and
 * every OPC UA method call and write.
 */
import type { DeviceModel } from './define-device.js';
import type { OperatorRole } from './spec.js';

/**
 * The roles, lowest first: each may do what the roles before it may.
 *
 * @example
 * ```ts
 * OPERATOR_ROLES.indexOf('engineer') // 2
 * ```
 */
export const OPERATOR_ROLES: readonly OperatorRole[] = Object.freeze(['viewer', 'operator', 'engineer', 'security-admin'] as const);

/** The role a command needs unless the model says otherwise. */
export const DEFAULT_COMMAND_ROLE: OperatorRole = 'operator';
/** The role a setting change needs unless the model says otherwise. */
export const DEFAULT_SETTING_ROLE: OperatorRole = 'engineer';

/**
 * Whether `held` is at least `needed`.
 *
 * @example
 * ```ts
 * roleAllows('engineer', 'operator') // true
 * roleAllows('viewer', 'operator')   // false
 * ```
 */
export function roleAllows(held: OperatorRole, needed: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(held) >= OPERATOR_ROLES.indexOf(needed);
}

/**
 * Whether `value` is one of the four roles.
 *
 * @example
 * ```ts
 * isOperatorRole('engineer') // true
 * ```
 */
export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

/** An action on a device: running a command, or changing a setting. */
export type DeviceAction = { readonly kind: 'command'; readonly id: string } | { readonly kind: 'setting'; readonly id: string };

/**
 * The least role an action needs: the command's or setting's `role`, else `operator` for a command
 * and `engineer` for a setting. An action the model does not declare needs `security-admin`, so
 * an unknown name never passes a role check that a declared one would fail.
 *
 * @example
 * ```ts
 * requiredRole(model, { kind: 'command', id: 'reset' })   // 'operator'
 * requiredRole(model, { kind: 'setting', id: 'interval' }) // 'engineer'
 * ```
 */
export function requiredRole(model: Pick<DeviceModel, 'commands' | 'properties'>, action: DeviceAction): OperatorRole {
  if (action.kind === 'command') {
    const command = model.commands.find((spec) => spec.id === action.id);
    return command === undefined ? 'security-admin' : (command.role ?? DEFAULT_COMMAND_ROLE);
  }
  const setting = model.properties.find((spec) => spec.id === action.id);
  return setting === undefined ? 'security-admin' : (setting.role ?? DEFAULT_SETTING_ROLE);
}
