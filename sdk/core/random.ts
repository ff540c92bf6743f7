import { ArgumentError } from './errors.js';

/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32). The same seed gives the
 * same sequence on every platform, which is what makes emulated runs reproducible byte for byte.
 *
 * @example
 * ```ts
 * const random = new SeededRandom(42)
 * random.next()      // uniform in [0, 1)
 * random.gaussian()  // standard normal
 * ```
 */
export class SeededRandom {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spareGaussian: number | undefined;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new ArgumentError(`Expected \`seed\` to be an integer, got ${String(seed)}`);
    let state = seed >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = splitmix();
    this.#s1 = splitmix();
    this.#s2 = splitmix();
    this.#s3 = splitmix();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.#s1 << 9) >>> 0;
    this.#s2 = (this.#s2 ^ this.#s0) >>> 0;
    this.#s3 = (this.#s3 ^ this.#s1) >>> 0;
    this.#s1 = (this.#s1 ^ this.#s2) >>> 0;
    this.#s0 = (this.#s0 ^ this.#s3) >>> 0;
    this.#s2 = (this.#s2 ^ t) >>> 0;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A normally distributed number with the given mean and standard deviation (Box–Muller). */
  gaussian(mean = 0, standardDeviation = 1): number {
    if (this.#spareGaussian !== undefined) {
      const spare = this.#spareGaussian;
      this.#spareGaussian = undefined;
      return mean + standardDeviation * spare;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.#spareGaussian = radius * Math.sin(2 * Math.PI * v);
    return mean + standardDeviation * radius * Math.cos(2 * Math.PI * v);
  }

  /** An independent generator derived from this one's seed and a label (stable per label). */
  fork(label: string): SeededRandom {
    let hash = 0x811c9dc5;
    for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new SeededRandom((this.#s0 ^ hash) | 0);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
