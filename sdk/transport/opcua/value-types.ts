/**
 * The model's value types (`number`, `integer`, `boolean`, `string`) as OPC UA built-in types
 * (IEC 62541-6 §5.1.2), and the status code of a value the model refuses.
 */
import { DataType, StatusCodes, type StatusCode } from 'node-opcua';
import type { ValueSpec } from '../../model/spec.js';

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/**
 * The built-in type of a model value: Double, Int32 (an integer whose range fits, else Double so
 * that no value of the range is lost), Boolean or String.
 *
 * @example
 * ```ts
 * dataTypeOf({ type: 'integer', range: { min: 0, max: 100 } }) // DataType.Int32
 * ```
 */
export function dataTypeOf(spec: ValueSpec): DataType {
  switch (spec.type) {
    case 'boolean':
      return DataType.Boolean;
    case 'string':
      return DataType.String;
    case 'integer':
      return spec.range === undefined || (spec.range.min >= INT32.min && spec.range.max <= INT32.max) ? DataType.Int32 : DataType.Double;
    case 'number':
      return DataType.Double;
  }
}

/**
 * The status code for a `valueProblem` text: out of the range or not one of the enumeration →
 * BadOutOfRange; anything else (a wrong type, a fraction for an integer) → BadTypeMismatch.
 */
export function statusOfProblem(problem: string): StatusCode {
  return / is outside |expected one of /.test(problem) ? StatusCodes.BadOutOfRange : StatusCodes.BadTypeMismatch;
}

/** Whether `value` is what a variant of `dataType` may carry (a result from a command handler). */
export function fitsDataType(value: unknown, dataType: DataType): boolean {
  switch (dataType) {
    case DataType.Boolean:
      return typeof value === 'boolean';
    case DataType.String:
      return typeof value === 'string';
    case DataType.Int32:
      return Number.isInteger(value) && (value as number) >= INT32.min && (value as number) <= INT32.max;
    default:
      return typeof value === 'number';
  }
}
