/** Small dense matrices (a few rows) for least-squares fits: products, transpose and inverse. */
import { ArgumentError } from '../../sdk/core/errors.js';

/** A matrix as rows. */
export type Matrix = readonly (readonly number[])[];

/**
 * The product A·B.
 *
 * @example
 * ```ts
 * multiply([[1, 2]], [[3], [4]]) // [[11]]
 * ```
 */
export function multiply(a: Matrix, b: Matrix): number[][] {
  const columns = b[0]?.length ?? 0;
  return a.map((row) => Array.from({ length: columns }, (_, j) => row.reduce((sum, value, k) => sum + value * b[k]![j]!, 0)));
}

/**
 * The transpose.
 *
 * @example
 * ```ts
 * transpose([[1, 2, 3]]) // [[1], [2], [3]]
 * ```
 */
export function transpose(a: Matrix): number[][] {
  const columns = a[0]?.length ?? 0;
  return Array.from({ length: columns }, (_, j) => a.map((row) => row[j]!));
}

/**
 * The inverse of a square matrix by Gauss–Jordan elimination with partial pivoting; refuses a
 * singular one.
 *
 * @example
 * ```ts
 * invert([[2, 0], [0, 4]]) // [[0.5, 0], [0, 0.25]]
 * ```
 */
export function invert(a: Matrix): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  const scale = a.flat().reduce((largest, value) => Math.max(largest, Math.abs(value)), Number.MIN_VALUE);
  for (let column = 0; column < n; column++) {
    let pivot = column;
    for (let row = column + 1; row < n; row++) if (Math.abs(m[row]![column]!) > Math.abs(m[pivot]![column]!)) pivot = row;
    if (!(Math.abs(m[pivot]![column]!) > 1e-13 * scale)) throw new ArgumentError('Expected the fit to be determined: the points do not fix every coefficient');
    [m[column], m[pivot]] = [m[pivot]!, m[column]!];
    const divisor = m[column]![column]!;
    m[column] = m[column]!.map((value) => value / divisor);
    for (let row = 0; row < n; row++) {
      if (row === column) continue;
      const factor = m[row]![column]!;
      if (factor !== 0) m[row] = m[row]!.map((value, j) => value - factor * m[column]![j]!);
    }
  }
  return m.map((row) => row.slice(n));
}
