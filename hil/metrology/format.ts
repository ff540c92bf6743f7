/** Numbers in one-line messages: six significant digits, without float noise (0.30000000000000004 → 0.3). */

/**
 * Formats a number for a message.
 *
 * @example
 * ```ts
 * formatNumber(0.1 + 0.2) // '0.3'
 * formatNumber(1234567)   // '1234570'
 * ```
 */
export function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
}
