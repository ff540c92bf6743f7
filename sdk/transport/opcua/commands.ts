/**
 * The model's commands as methods of the DI `MethodSet` (OPC 10000-100 §5.4), with typed input
 * arguments (one per declared argument, in order) and an output argument `result` when the
 * command declares one. A call runs the device's command handler through `device.invoke`, which
 * checks the arguments against the model.
 *
 * OPC UA arguments are positional and always present (IEC 62541-3 §5.7), so an optional argument
 * is declared as a one-dimensional array of its type holding at most one element: an empty array
 * (or Null) leaves it out. Results (IEC 62541-4 §5.11.2): an argument the model refuses → BadInvalidArgument
 * with BadOutOfRange / BadTypeMismatch for that argument; a command without a handler on this device
 * → BadNotImplemented; a handler that throws or returns the wrong type → BadInternalError. With
 * an `OpcuaAccess`, a caller whose role is below the command's → BadUserAccessDenied, recorded.
 */
import { DataType, StatusCodes, Variant, type CallMethodResultOptions, type ISessionContext, type Namespace, type StatusCode, type UAMethod, type UAObject } from 'node-opcua';
import type { OpcuaAccess } from './access.js';
import type { Device } from '../../device/device.js';
import { StateError } from '../../core/errors.js';
import { valueProblem, type DeviceModel } from '../../model/define-device.js';
import type { CommandSpec } from '../../model/spec.js';
import { dataTypeOf, fitsDataType, statusOfProblem } from './value-types.js';

/** The command methods of one device. */
export class CommandMethods {
  readonly #methods = new Map<string, { method: UAMethod; spec: CommandSpec }>();

  /**
   * Adds one method per command to `parent`.
   *
   * @example
   * ```ts
   * const commands = new CommandMethods(namespace, deviceObject.methodSet, model, deviceId)
   * commands.bind(device)
   * ```
   */
  constructor(namespace: Namespace, parent: UAObject, model: DeviceModel, deviceId: string) {
    for (const spec of model.commands) {
      const method = namespace.addMethod(parent, {
        browseName: spec.id,
        nodeId: `s=${deviceId}.${spec.id}()`,
        description: spec.description ?? spec.id,
        inputArguments: (spec.arguments ?? []).map((argument) => ({
          name: argument.name,
          dataType: dataTypeOf(argument),
          ...(argument.required === false ? { valueRank: 1, arrayDimensions: [1] } : { valueRank: -1 }),
          description: { text: `${argument.description ?? argument.name}${argument.required === false ? ' (optional: an array of at most one value; empty leaves it out)' : ''}` },
        })),
        outputArguments: spec.result ? [{ name: 'result', dataType: dataTypeOf(spec.result), valueRank: -1, description: { text: spec.result.description ?? 'result' } }] : [],
      });
      this.#methods.set(spec.id, { method, spec });
    }
  }

  /** The method of a command. */
  method(id: string): UAMethod | undefined {
    return this.#methods.get(id)?.method;
  }

  /** Runs calls through `device.invoke`; with `access`, only for callers whose role suffices. */
  bind(device: Pick<Device, 'invoke'>, access?: OpcuaAccess): void {
    for (const { method, spec } of this.#methods.values()) {
      // node-opcua tells a promise-returning method from a callback one by its arity: two parameters.
      method.bindMethod(async (inputs: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> => {
        if (access === undefined) return call(device, spec, inputs);
        const action = { kind: 'command', id: spec.id } as const;
        const decision = access.check(context, action);
        if (!decision.allowed) return { statusCode: StatusCodes.BadUserAccessDenied };
        const result = await call(device, spec, inputs);
        const status = result.statusCode as StatusCode;
        access.record(action, decision, status.isGood() ? 'success' : 'failure', status.isGood() ? {} : { status: status.name });
        return result;
      });
    }
  }
}

async function call(device: Pick<Device, 'invoke'>, spec: CommandSpec, inputs: readonly Variant[]): Promise<CallMethodResultOptions> {
  const declared = spec.arguments ?? [];
  const args: Record<string, unknown> = {};
  const results: StatusCode[] = [];
  let refused = false;
  declared.forEach((argument, i) => {
    const variant = inputs[i];
    let value: unknown = variant === undefined || variant.dataType === DataType.Null ? undefined : variant.value;
    let status: StatusCode = StatusCodes.Good;
    if (argument.required === false && value !== undefined) {
      const values = Array.from(value as ArrayLike<unknown>);
      if (values.length > 1) status = StatusCodes.BadOutOfRange;
      value = values[0];
    }
    if (status !== StatusCodes.Good) {
      // already refused: more than one value for an optional argument
    } else if (value === undefined) {
      if (argument.required !== false) status = StatusCodes.BadArgumentsMissing;
    } else {
      const problem = valueProblem(argument, value);
      if (problem === undefined) args[argument.name] = value;
      else status = statusOfProblem(problem);
    }
    if (status !== StatusCodes.Good) refused = true;
    results.push(status);
  });
  if (refused) return { statusCode: StatusCodes.BadInvalidArgument, inputArgumentResults: results };
  let result: unknown;
  try {
    result = await device.invoke(spec.id, args);
  } catch (error) {
    return { statusCode: error instanceof StateError ? StatusCodes.BadNotImplemented : StatusCodes.BadInternalError };
  }
  if (spec.result === undefined) return { statusCode: StatusCodes.Good, outputArguments: [] };
  const dataType = dataTypeOf(spec.result);
  if (!fitsDataType(result, dataType)) return { statusCode: StatusCodes.BadInternalError };
  return { statusCode: StatusCodes.Good, outputArguments: [new Variant({ dataType, value: result })] };
}
