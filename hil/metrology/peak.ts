/**
 * The peak of a sampled, noisy response: a least-squares parabola through the samples around the
 * largest one (those within r/2 + 3σ below it, at most 50 a side, at least the largest and its two
 * neighbours), its vertex the peak. Without noise that is the vertex of the parabola through three samples, which
 * finds a peak between samples that the largest sample misses. Uncertainty: the noise through the
 * estimator (sensitivities ∂p/∂yᵢ by differences, JCGM 100 §5.1.3), σ·√(2 ln N) for the upward
 * selection of the largest of N noisy samples near the top, and the gap between the vertex and the largest sample as a
 * rectangular bound on the parabola's own error.
 */
import { rectangularB, type UncertaintyInput } from './contributions.js';
import { marginOf, sampleInputs, type Noise } from './crossing.js';
import { invert, multiply, transpose } from './matrix.js';

/** Most samples taken on each side of the largest (a flat top would otherwise take the whole series). */
const MAX_SIDE = 50;

/** A located peak, in the values' scale. */
export interface Peak {
  readonly value: number;
  readonly inputs: readonly UncertaintyInput[];
}

/**
 * The peak of `value` over `time`.
 *
 * @example
 * ```ts
 * peakOf([0, 1, 2, 3], [0, 0.9, 0.9, 0], { sigma: 0, degreesOfFreedom: Infinity }).value // 1.0125: the vertex at t = 1.5
 * ```
 */
export function peakOf(time: readonly number[], value: readonly number[], noise: Noise): Peak {
  let top = 0;
  for (let i = 1; i < value.length; i++) if (value[i]! > value[top]!) top = i;
  const margin = marginOf(noise);
  let start = top;
  while (start > 0 && top - start < MAX_SIDE && value[start - 1]! >= value[top]! - margin) start--;
  let end = top;
  while (end < value.length - 1 && end - top < MAX_SIDE && value[end + 1]! >= value[top]! - margin) end++;
  start = Math.max(0, Math.min(start, top - 1));
  end = Math.min(value.length - 1, Math.max(end, top + 1));
  // The largest of N noisy samples near the top is selected upwards by about σ·√(2 ln N): a
  // rectangular input of that half-width (N: samples within the margin of the largest).
  const scale = noise.scale ?? 1;
  let candidates = 0;
  for (const v of value) if (v >= value[top]! - margin) candidates++;
  const selection =
    noise.sigma > 0
      ? [rectangularB('selection of the largest noisy sample', noise.sigma * scale * Math.sqrt(2 * Math.log(Math.max(2, candidates))), { sensitivity: 1 / scale })]
      : [];
  const indices = Array.from({ length: end - start + 1 }, (_, k) => start + k);
  const values = indices.map((i) => value[i]!);
  const times = indices.map((i) => time[i]!);
  const found = end - start < 2 ? undefined : vertex(times, values);
  if (found === undefined) {
    // No parabola (a flat or still-rising top): the largest sample, with its own noise and rounding.
    return { value: value[top]!, inputs: [...sampleInputs('the peak', (y) => y[0], [value[top]!], noise), ...selection] };
  }
  const inputs = sampleInputs('the peak', (y) => vertex(times, y), values, noise);
  inputs.push(...selection);
  inputs.push(rectangularB('peak between samples beyond the parabola', Math.abs(found - value[top]!)));
  return { value: found, inputs };
}

/** Vertex value of the least-squares parabola through (t, y), or undefined when it has no vertex within them. */
function vertex(t: readonly number[], y: readonly number[]): number | undefined {
  const centre = t.reduce((a, b) => a + b, 0) / t.length;
  const span = t.reduce((largest, ti) => Math.max(largest, Math.abs(ti - centre)), 0) || 1;
  const design = t.map((ti) => {
    const u = (ti - centre) / span;
    return [1, u, u * u];
  });
  const designT = transpose(design);
  const [c, b, a] = multiply(invert(multiply(designT, design)), multiply(designT, y.map((v) => [v]))).map((row) => row[0]!);
  // A parabola opening upwards, or a vertex outside the samples (a flat or still-rising top), has no peak here.
  if (!(a! < 0) || Math.abs(b! / (2 * a!)) > 1) return undefined;
  return c! - (b! * b!) / (4 * a!);
}
