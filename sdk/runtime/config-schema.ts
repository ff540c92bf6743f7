/**
 * A small declaration of a settings tree that yields both its checks (one `ValidationError` naming
 * the path of the bad field, unknown keys refused with a did-you-mean) and a JSON Schema (draft
 * 2020-12) for editors' completion. Only what the runtime's configuration needs: objects, strings,
 * lists of strings, integers, booleans, enumerations, and "an object or `false`".
 */
import { describe, rejectUnknownKeys, requireObject, join } from '../core/check.js';
import { ValidationError } from '../core/errors.js';

/** One field of the tree. */
export type SettingNode = StringNode | StringListNode | IntegerNode | BooleanNode | EnumNode | EnumMapNode | ObjectNode | ObjectOrFalseNode;

interface Described {
  readonly description: string;
}

/** A non-empty string; `path: true` resolves it against the configuration file's folder. */
export interface StringNode extends Described {
  readonly type: 'string';
  readonly path?: boolean;
  /** Further check of the text: throws `ValidationError` itself, or returns a problem (the reason). */
  readonly check?: (value: string, path: string) => string | undefined;
  /** An example for the schema. */
  readonly examples?: readonly string[];
}

/** A list of non-empty strings, each checked by `check`. */
export interface StringListNode extends Described {
  readonly type: 'string-list';
  /** Each item is a path, resolved against the configuration file's folder. */
  readonly path?: boolean;
  /** Check of one item: returns a problem (the reason), or undefined. */
  readonly check?: (value: string) => string | undefined;
  readonly examples?: readonly (readonly string[])[];
}

export interface IntegerNode extends Described {
  readonly type: 'integer';
  readonly min: number;
  readonly max: number;
}

export interface BooleanNode extends Described {
  readonly type: 'boolean';
}

export interface EnumNode extends Described {
  readonly type: 'enum';
  readonly values: readonly string[];
}

/** An object of any non-empty keys, each value one of `values` (e.g. roles by certificate common name). */
export interface EnumMapNode extends Described {
  readonly type: 'enum-map';
  readonly values: readonly string[];
}

export interface ObjectNode extends Described {
  readonly type: 'object';
  readonly fields: Readonly<Record<string, SettingNode>>;
  /** Checks across fields, after each field passed (not expressed in the JSON Schema). */
  readonly rules?: (value: Record<string, unknown>, path: string) => void;
}

/** An object, or `false` to turn the feature off. */
export interface ObjectOrFalseNode extends Described {
  readonly type: 'object-or-false';
  readonly object: ObjectNode;
}

/**
 * Checks `value` against `node`; returns a copy with the `path: true` strings passed through
 * `resolvePath`. Throws `ValidationError` at the first bad field.
 *
 * @example
 * ```ts
 * checkSettings(CONFIG_SCHEMA, JSON.parse(text), '', (p) => resolve(folder, p))
 * ```
 */
export function checkSettings(node: SettingNode, value: unknown, path: string, resolvePath: (path: string) => string = (p) => p): unknown {
  switch (node.type) {
    case 'string': {
      if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(path, `expected a non-empty string, got ${describe(value)}`);
      const problem = node.check?.(value, path);
      if (problem !== undefined) throw new ValidationError(path, problem);
      return node.path ? resolvePath(value) : value;
    }
    case 'string-list': {
      if (!Array.isArray(value)) throw new ValidationError(path, `expected a list of strings, got ${describe(value)}`);
      return value.map((item: unknown, i) => {
        const at = `${path}[${i}]`;
        if (typeof item !== 'string' || item.trim() === '') throw new ValidationError(at, `expected a non-empty string, got ${describe(item)}`);
        const problem = node.check?.(item);
        if (problem !== undefined) throw new ValidationError(at, problem);
        return node.path ? resolvePath(item) : item;
      });
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new ValidationError(path, `expected an integer, got ${describe(value)}`);
      if (value < node.min || value > node.max) throw new ValidationError(path, `must be from ${node.min} to ${node.max}, got ${value}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new ValidationError(path, `expected true or false, got ${describe(value)}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !node.values.includes(value)) {
        throw new ValidationError(path, `expected one of ${node.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}`);
      }
      return value;
    case 'enum-map': {
      const object = requireObject(value, path);
      for (const [key, item] of Object.entries(object)) {
        if (key.trim() === '') throw new ValidationError(path, 'a key is empty');
        if (typeof item !== 'string' || !node.values.includes(item)) {
          throw new ValidationError(join(path, key), `expected one of ${node.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(item)}`);
        }
      }
      return { ...object };
    }
    case 'object-or-false':
      if (value === false) return false;
      if (value === true) throw new ValidationError(path, `expected an object, or false to turn it off, got true`);
      return checkSettings(node.object, value, path, resolvePath);
    case 'object': {
      const object = requireObject(value, path);
      rejectUnknownKeys(object, Object.keys(node.fields), path);
      const checked: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(node.fields)) {
        if (object[key] !== undefined) checked[key] = checkSettings(field, object[key], join(path, key), resolvePath);
      }
      node.rules?.(checked, path);
      return checked;
    }
  }
}

/**
 * The JSON Schema (draft 2020-12) of a tree, with each field's description for editors.
 *
 * @example
 * ```ts
 * writeFileSync('sensorkit.config.schema.json', JSON.stringify(settingsJsonSchema(CONFIG_SCHEMA), null, 2))
 * ```
 */
export function settingsJsonSchema(node: SettingNode): Record<string, unknown> {
  switch (node.type) {
    case 'string':
      return { type: 'string', minLength: 1, description: node.description, ...(node.examples ? { examples: [...node.examples] } : {}) };
    case 'string-list':
      return { type: 'array', items: { type: 'string', minLength: 1 }, description: node.description, ...(node.examples ? { examples: node.examples.map((example) => [...example]) } : {}) };
    case 'integer':
      return { type: 'integer', minimum: node.min, maximum: node.max, description: node.description };
    case 'boolean':
      return { type: 'boolean', description: node.description };
    case 'enum':
      return { enum: [...node.values], description: node.description };
    case 'enum-map':
      return { type: 'object', description: node.description, propertyNames: { minLength: 1 }, additionalProperties: { enum: [...node.values] } };
    case 'object-or-false':
      return { description: node.description, anyOf: [{ const: false }, settingsJsonSchema(node.object)] };
    case 'object':
      return {
        type: 'object',
        description: node.description,
        properties: Object.fromEntries(Object.entries(node.fields).map(([key, field]) => [key, settingsJsonSchema(field)])),
        additionalProperties: false,
      };
  }
}
