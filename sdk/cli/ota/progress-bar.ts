/**
 * A download progress bar for the command line: redrawn in place on a terminal, one line per 10 %
 * otherwise (so logs stay readable).
 */

/** Where the bar is drawn. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

function mib(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}

/**
 * A progress bar.
 *
 * @example
 * ```ts
 * const bar = new ProgressBar(process.stderr, 'downloading')
 * bar.update(512, 1024) // downloading [##########··········]  50%  0.0/0.0 MiB
 * bar.done()
 * ```
 */
export class ProgressBar {
  readonly #out: ProgressOutput;
  readonly #label: string;
  readonly #width: number;
  #lastTenth = -1;
  #drawn = false;

  constructor(out: ProgressOutput, label: string, width = 30) {
    this.#out = out;
    this.#label = label;
    this.#width = width;
  }

  /** The bar's text for `done` of `total`. */
  render(done: number, total: number): string {
    const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
    const filled = Math.round(ratio * this.#width);
    return `${this.#label} [${'#'.repeat(filled)}${'·'.repeat(this.#width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${mib(done)}/${mib(total)} MiB`;
  }

  update(done: number, total: number): void {
    if (this.#out.isTTY) {
      this.#out.write(`\r${this.render(done, total)}`);
      this.#drawn = true;
      return;
    }
    const tenth = Math.floor((total <= 0 ? 1 : done / total) * 10);
    if (tenth === this.#lastTenth) return;
    this.#lastTenth = tenth;
    this.#out.write(`${this.render(done, total)}\n`);
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }
}
