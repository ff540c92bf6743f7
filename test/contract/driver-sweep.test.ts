/**
 * The generic driver sweep (after Zephyr's emulator tests): every fixture in `fixtures/` wires an
 * emulation to a part; the truth is swept across the output's whole stated range, and each reading
 * must be within the part's stated tolerance, |reading − truth| ≤ absolute + relative·|truth|.
 * Every built-in part must have at least one fixture, so no driver escapes the sweep.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sdk/core/clock.js';
import { SeededRandom } from '../../sdk/core/random.js';
import { BUILTIN_DRIVERS } from '../../sdk/drivers/builtin.js';
import type { DriverDefinition, DriverIo } from '../../sdk/drivers/contract.js';
import { driverDefinition } from '../../sdk/drivers/registry.js';
import { EmulatedBoard } from '../../boards/emulated/board.js';
import { settable } from '../../boards/emulated/signals.js';
import type { SweepFixture } from './sweep-fixture.js';

const SEED = 20_260_101;
/** Virtual time between setting the truth and sampling: long against any emulated lag or filter. */
const SETTLE_MS = 1000;
/** Virtual time one `sample()` may take (conversions, polling) before it counts as hung. */
const SAMPLE_LIMIT_MS = 60_000;
const MIN_POINTS = 21;

interface Loaded {
  readonly name: string;
  readonly fixture: SweepFixture;
}

const directory = fileURLToPath(new URL('./fixtures/', import.meta.url));
const loaded: Loaded[] = [];
const loadProblems: string[] = [];
for (const file of readdirSync(directory).filter((name) => name.endsWith('.ts')).sort()) {
  const module = (await import(join(directory, file))) as { default?: SweepFixture | SweepFixture[] };
  const exported = module.default;
  if (exported === undefined) {
    loadProblems.push(`${file} has no default export`);
    continue;
  }
  const list = Array.isArray(exported) ? exported : [exported];
  list.forEach((fixture, index) => loaded.push({ name: `${file}[${index}] ${fixture.part}.${fixture.output} on ${fixture.board}`, fixture }));
}

/** The IO the definition asks for, from the board. */
function driverIo(board: EmulatedBoard, definition: DriverDefinition, fixture: SweepFixture): DriverIo {
  if (definition.io === 'analog') {
    const pin = fixture.pin ?? board.definition.analogPins[0]?.name;
    if (pin === undefined) throw new Error(`${fixture.board} has no analog pin for ${fixture.part}`);
    return { clock: board.clock, analog: board.openAnalogInput({ pin }) };
  }
  const address = fixture.address ?? definition.addresses?.[0];
  if (address === undefined) throw new Error(`fixture for ${fixture.part} needs an address (the part lists none)`);
  return { clock: board.clock, i2c: board.openI2c({ address, ...(fixture.bus === undefined ? {} : { bus: fixture.bus }) }) };
}

/** Awaits `promise` while moving the virtual clock, so drivers that wait on the clock complete. */
function format(value: number): string {
  return Number.isFinite(value) ? Number(value.toPrecision(6)).toString() : String(value);
}

describe('driver sweep', () => {
  it('loads every fixture module', () => {
    expect(loadProblems).toEqual([]);
    expect(loaded.length).toBeGreaterThan(0);
  });

  it('has a fixture for every built-in part', () => {
    const covered = new Set(loaded.map(({ fixture }) => fixture.part));
    const missing = BUILTIN_DRIVERS.map((definition) => definition.part).filter((part) => !covered.has(part));
    expect(missing, `built-in parts without a sweep fixture in test/contract/fixtures/: ${missing.join(', ')}`).toEqual([]);
  });

  for (const { name, fixture } of loaded) {
    it(name, async ({ annotate }) => {
      const definition = driverDefinition(fixture.part);
      if (definition === undefined) throw new Error(`part "${fixture.part}" is not registered`);
      const options = fixture.options ?? {};
      const output = definition.validateOptions(options, 'options')[fixture.output];
      if (output === undefined) throw new Error(`part "${fixture.part}" has no output "${fixture.output}"`);
      const points = fixture.points ?? MIN_POINTS;
      expect(points, 'points').toBeGreaterThanOrEqual(MIN_POINTS);

      const clock = new VirtualClock();
      const board = new EmulatedBoard({ definition: fixture.board, clock, seed: SEED });
      const truth = settable(output.range.min);
      fixture.attach(board, truth, new SeededRandom(SEED).fork(`fixture:${fixture.part}:${fixture.output}`));
      const driver = definition.create(driverIo(board, definition, fixture), options);
      const { absolute, relative = 0 } = output.tolerance;
      const failures: string[] = [];
      let worst = { ratio: -1, truth: Number.NaN, error: Number.NaN, allowed: Number.NaN };
      try {
        for (let i = 0; i < points; i++) {
          const value = output.range.min + ((output.range.max - output.range.min) * i) / (points - 1);
          truth.set(value);
          await clock.advance(SETTLE_MS);
          const allowed = absolute + relative * Math.abs(value);
          let reading;
          try {
            reading = await clock.runUntilSettled(driver.sample(), SAMPLE_LIMIT_MS);
          } catch (error) {
            failures.push(`at ${format(value)}: sample() failed: ${(error as Error).message}`);
            continue;
          }
          expect(reading.provenance.part).toBe(fixture.part);
          const measured = reading.values[fixture.output];
          const error = measured === undefined ? Number.NaN : measured - value;
          const ratio = Number.isFinite(error) ? Math.abs(error) / allowed : Infinity;
          if (ratio > worst.ratio) worst = { ratio, truth: value, error, allowed };
          if (!(Math.abs(error) <= allowed)) {
            failures.push(`at ${format(value)}: read ${format(measured ?? Number.NaN)}, error ${format(error)} > ${format(allowed)}`);
          }
        }
      } finally {
        driver.close();
        await board.close();
      }
      const summary =
        `worst error ${format(worst.error)} ${output.unit} at ${format(worst.truth)} ` +
        `(${format(worst.ratio * 100)} % of the allowed ${format(worst.allowed)}) over ${points} points ` +
        `from ${format(output.range.min)} to ${format(output.range.max)}`;
      await annotate(summary);
      expect(failures, `${fixture.part}.${fixture.output}: ${summary}`).toEqual([]);
    });
  }
});
