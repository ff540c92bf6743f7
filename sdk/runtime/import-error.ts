/** The reason an `import()` of a user's file failed, as one line. */
import { inspect } from 'node:util';

/**
 * The first line of what an import threw. ts-node's loader runs in another thread, so a compile
 * error can arrive as a plain object (no `Error` prototype) carrying `message` or `diagnosticText`.
 *
 * @example
 * ```ts
 * importFailure(new SyntaxError("Unexpected token '}'\n    at …")) // "Unexpected token '}'"
 * ```
 */
export function importFailure(error: unknown): string {
  let message: string;
  if (error instanceof Error) message = error.message;
  else if (typeof error === 'object' && error !== null) {
    const fields = error as { message?: unknown; diagnosticText?: unknown };
    message = typeof fields.diagnosticText === 'string' ? fields.diagnosticText : typeof fields.message === 'string' ? fields.message : inspect(error);
  } else message = String(error);
  return (message.split('\n').find((line) => line.trim() !== '') ?? message).trim();
}
