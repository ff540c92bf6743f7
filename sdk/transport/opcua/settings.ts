/**
 * The model's properties (settings) as variables of the DI `ParameterSet` (OPC 10000-100 §5.4):
 * readable, writable unless declared read-only. A numeric setting with a range is an
 * `AnalogItemType` with its `EURange` (and `EngineeringUnits` when it has a unit). A write goes
 * through `device.writeProperty`, which checks type and range: a value outside the range or the
 * enumeration is refused with BadOutOfRange (IEC 62541-4 §7.39), a wrong type with BadTypeMismatch.
 * With an `OpcuaAccess`, a writer whose role is below the setting's is refused with
 * BadUserAccessDenied before the value is looked at, and every write is recorded.
 */
import { AccessLevelFlag, DataType, StatusCodes, Variant, type ISessionContext, type Namespace, type StatusCode, type UAObject, type UAVariable } from 'node-opcua';
import type { OpcuaAccess } from './access.js';
import type { Device } from '../../device/device.js';
import { engineeringUnits } from './opcua-units.js';
import { valueProblem, type DeviceModel } from '../../model/define-device.js';
import type { PropertySpec } from '../../model/spec.js';
import { unitInfo } from '../../core/units.js';
import { dataTypeOf, statusOfProblem } from './value-types.js';

/** The setting variables of one device. */
export class SettingVariables {
  readonly #variables = new Map<string, { variable: UAVariable; spec: PropertySpec; dataType: DataType }>();

  /**
   * Adds one variable per setting to `parent`, holding the model's default until bound to a device.
   *
   * @example
   * ```ts
   * const settings = new SettingVariables(namespace, deviceObject.parameterSet, model, deviceId)
   * const detach = settings.bind(device, () => deviceObject.bumpRevision())
   * ```
   */
  constructor(namespace: Namespace, parent: UAObject, model: DeviceModel, deviceId: string) {
    for (const spec of model.properties) {
      const dataType = dataTypeOf(spec);
      const access = spec.writable === false ? 'CurrentRead' : 'CurrentRead | CurrentWrite';
      const common = {
        componentOf: parent,
        browseName: spec.id,
        nodeId: `s=${deviceId}.${spec.id}`,
        description: spec.description ?? spec.id,
        dataType: DataType[dataType],
        accessLevel: access,
        userAccessLevel: access,
        value: { dataType, value: spec.default },
      };
      const unit = spec.unit !== undefined && unitInfo(spec.unit) !== undefined ? engineeringUnits(spec.unit) : undefined;
      const variable =
        spec.range !== undefined && dataType !== DataType.String && dataType !== DataType.Boolean
          ? namespace.addAnalogDataItem({
              ...common,
              engineeringUnitsRange: { low: spec.range.min, high: spec.range.max },
              ...(unit ? { engineeringUnits: { namespaceUri: unit.namespaceUri, unitId: unit.unitId, displayName: { text: unit.displayName }, description: { text: unit.description } } } : {}),
            })
          : namespace.addVariable({ ...common, typeDefinition: 'BaseDataVariableType' });
      this.#variables.set(spec.id, { variable, spec, dataType });
    }
  }

  /** The variable of a setting. */
  variable(id: string): UAVariable | undefined {
    return this.#variables.get(id)?.variable;
  }

  /**
   * Serves the settings from `device`: reads return its current value, writes reach
   * `device.writeProperty`. `onChange` runs after every change (from OPC UA or another transport).
   */
  bind(device: Pick<Device, 'readProperty' | 'writeProperty' | 'on'>, onChange: () => void, access?: OpcuaAccess): () => void {
    for (const { variable, spec, dataType } of this.#variables.values()) {
      const writable = spec.writable !== false;
      if (writable && access !== undefined) guardWrites(variable, spec.id, access);
      variable.bindVariable(
        {
          get: () => new Variant({ dataType, value: device.readProperty(spec.id) }),
          ...(writable
            ? {
                set: (variant: Variant) => {
                  const value: unknown = variant.dataType === DataType.Null ? undefined : variant.value;
                  const problem = valueProblem(spec, value);
                  if (problem !== undefined) return statusOfProblem(problem);
                  try {
                    device.writeProperty(spec.id, value);
                  } catch {
                    return StatusCodes.BadOutOfRange;
                  }
                  return StatusCodes.Good;
                },
              }
            : {}),
        },
        true,
      );
      // bindVariable resets the access level from the presence of a setter; keep read-only ones so.
      if (!writable) variable.accessLevel = AccessLevelFlag.CurrentRead;
    }
    return device.on('property', () => onChange());
  }
}

type WriteValue = (context: ISessionContext, dataValue: unknown, ...rest: unknown[]) => unknown;

/**
 * Checks the writer's role before node-opcua's own write path (its setter sees no session), and
 * records the outcome. `writeValue` takes a callback or returns a promise; both are kept.
 */
function guardWrites(variable: UAVariable, id: string, access: OpcuaAccess): void {
  const target = variable as unknown as { writeValue: WriteValue };
  const original = target.writeValue.bind(variable) as WriteValue;
  const action = { kind: 'setting', id } as const;
  target.writeValue = (context, dataValue, ...rest) => {
    const decision = access.check(context, action);
    const callback = typeof rest.at(-1) === 'function' ? (rest.pop() as (error: Error | null, status?: StatusCode) => void) : undefined;
    if (!decision.allowed) {
      if (callback) return void callback(null, StatusCodes.BadUserAccessDenied);
      return Promise.resolve(StatusCodes.BadUserAccessDenied);
    }
    const outcome = (status: StatusCode | undefined): void => {
      const good = status === undefined || status.isGood();
      access.record(action, decision, good ? 'success' : 'failure', good ? {} : { status: status.name });
    };
    if (callback) {
      return original(context, dataValue, ...rest, (error: Error | null, status?: StatusCode) => {
        outcome(error ? StatusCodes.BadInternalError : status);
        callback(error, status);
      });
    }
    return Promise.resolve(original(context, dataValue, ...rest)).then((status) => {
      outcome(status as StatusCode);
      return status;
    });
  };
}
