/**
 * Operator roles, re-exported from the device model where each command and setting names the role
 * it needs (see `sdk/model/roles.ts`).
 */
export { DEFAULT_COMMAND_ROLE, DEFAULT_SETTING_ROLE, OPERATOR_ROLES, isOperatorRole, requiredRole, roleAllows, type DeviceAction } from '../../sdk/model/roles.js';
export type { OperatorRole } from '../../sdk/model/spec.js';
