/**
 * The i2c-dev addon (boards/linux/native) and NativeI2cDevTransport, without I2C hardware: /dev/null
 * and a regular file answer ioctl(I2C_RDWR) with ENOTTY, which proves the call reaches the kernel.
 * Fails (never skips) when the addon is not built: `npm ci` builds it (boards/linux/native/build.js).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  I2C_MAX_MESSAGE_LENGTH,
  LinuxBoard,
  NativeI2cDevTransport,
  i2cDevError,
  loadI2cDevAddon,
  type I2cDevAddon,
} from '../../boards/linux/index.js';
import { VirtualClock } from '../../sdk/core/clock.js';
import { ArgumentError, BusError, NotSupportedError, PinError, StateError, ValidationError } from '../../sdk/core/errors.js';

const NATIVE = fileURLToPath(new URL('../../boards/linux/native/', import.meta.url));

/** The built addon; a failure, not a skip, when it is missing. */
function addon(): I2cDevAddon {
  const loaded = loadI2cDevAddon();
  if (loaded.addon === undefined) throw new Error(`the i2c-dev addon is not built (${loaded.error ?? ''}): run node boards/linux/native/build.js`);
  return loaded.addon;
}

/** The error a call throws (fails the test when it does not throw). */
function thrown(call: () => unknown): Error & { code?: string; errno?: number; syscall?: string } {
  try {
    call();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the call to throw');
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sensorkit-i2cdev-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the addon's sources in a temporary folder, so building there leaves ours alone. */
function sourceCopy(): string {
  const copy = join(dir, 'native');
  mkdirSync(copy);
  for (const file of ['build.js', 'binding.gyp', 'i2c_dev.c']) copyFileSync(join(NATIVE, file), join(copy, file));
  writeFileSync(join(copy, 'package.json'), '{"type":"module"}\n');
  return copy;
}

describe('i2c-dev addon: build', () => {
  it('build.js compiles the addon from source, exits 0, and the result loads with open/transfer/transferAsync/close', () => {
    const copy = sourceCopy();
    const run = spawnSync(process.execPath, [join(copy, 'build.js')], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, SENSORKIT_NO_NATIVE: '' } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/i2c-dev addon built: .*build\/Release\/i2c_dev\.node/);
    const built = createRequire(import.meta.url)(join(copy, 'build/Release/i2c_dev.node')) as I2cDevAddon;
    expect(Object.keys(built).sort()).toEqual(['close', 'open', 'transfer', 'transferAsync']);
  }, 240_000);

  it('without python3/make/cc on PATH it prints one warning line and still exits 0', () => {
    const copy = sourceCopy();
    const run = spawnSync(process.execPath, [join(copy, 'build.js')], { encoding: 'utf8', timeout: 60_000, env: { PATH: join(dir, 'no-tools'), HOME: dir } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sensorkit: i2c-dev addon not built \(.+\); .*node boards\/linux\/native\/build\.js$/);
    expect(existsSync(join(copy, 'build/Release/i2c_dev.node'))).toBe(false);
  }, 60_000);

  it('the addon under boards/linux/native/build loads (else LinuxBoard has no I2C)', () => {
    expect(loadI2cDevAddon().error).toBeUndefined();
    expect(typeof addon().transfer).toBe('function');
  });
});

describe('i2c-dev addon: system calls', () => {
  it('open(/dev/null) then transfer reaches ioctl(I2C_RDWR) and fails with ENOTTY; close releases the fd', () => {
    const fd = addon().open('/dev/null');
    try {
      expect(fd).toBeGreaterThanOrEqual(0);
      const error = thrown(() => addon().transfer(fd, 0x76, [0xd0], 1));
      expect(error).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl', errno: 25 });
      expect(error.message).toMatch(/^ENOTTY: ioctl I2C_RDWR 0x76: /);
      // The largest message i2c-dev accepts passes our checks and reaches the kernel too.
      expect(thrown(() => addon().transfer(fd, 0x03, new Uint8Array(I2C_MAX_MESSAGE_LENGTH), I2C_MAX_MESSAGE_LENGTH)).code).toBe('ENOTTY');
    } finally {
      addon().close(fd);
    }
    expect(thrown(() => addon().transfer(fd, 0x76, [0xd0], 1)).code).toBe('EBADF');
    expect(thrown(() => addon().close(fd)).code).toBe('EBADF');
  });

  it('transferAsync runs the same ioctl off the main thread: ENOTTY as a rejection; bad arguments throw at once', async () => {
    const fd = addon().open('/dev/null');
    try {
      const pending = addon().transferAsync(fd, 0x76, Uint8Array.of(0xd0), 1);
      expect(pending).toBeInstanceOf(Promise);
      await expect(pending).rejects.toMatchObject({ code: 'ENOTTY', syscall: 'ioctl', message: expect.stringMatching(/^ENOTTY: ioctl I2C_RDWR 0x76: /) });
      // Many at once, as samplers on one bus would issue them: each settles, none hangs.
      const all = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => addon().transferAsync(fd, 0x08 + i, [i], 2)));
      expect(all.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'fulfilled'))).toEqual(Array(32).fill('ENOTTY'));
      expect(thrown(() => addon().transferAsync(fd, 0x78, [0], 1)).code).toBe('ERR_OUT_OF_RANGE');
      expect(thrown(() => addon().transferAsync(fd, 0x76, [300], 0)).code).toBe('ERR_OUT_OF_RANGE');
    } finally {
      addon().close(fd);
    }
  });

  it('opening a missing /dev/i2c-99 fails with ENOENT', () => {
    expect(existsSync('/dev/i2c-99')).toBe(false);
    const error = thrown(() => addon().open('/dev/i2c-99'));
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'open' });
    expect(error.message).toContain('/dev/i2c-99');
  });

  it('rejects bad arguments before the ioctl (a RangeError/TypeError, never ENOTTY)', () => {
    const fd = addon().open('/dev/null');
    try {
      const code = (call: () => unknown): string | undefined => thrown(call).code;
      for (const address of [0x02, 0x78, 0x100, -1, 0x76 + 0.5, Number.NaN]) {
        expect(code(() => addon().transfer(fd, address, [0], 1)), `address ${address}`).toBe('ERR_OUT_OF_RANGE');
      }
      expect(code(() => addon().transfer(fd, '0x76' as unknown as number, [0], 1))).toBe('ERR_INVALID_ARG_TYPE');
      expect(code(() => addon().transfer(fd, 0x76, [0], I2C_MAX_MESSAGE_LENGTH + 1))).toBe('ERR_OUT_OF_RANGE');
      expect(code(() => addon().transfer(fd, 0x76, [0], -1))).toBe('ERR_OUT_OF_RANGE');
      expect(code(() => addon().transfer(fd, 0x76, new Uint8Array(I2C_MAX_MESSAGE_LENGTH + 1), 0))).toBe('ERR_OUT_OF_RANGE');
      for (const bad of [256, -1, 1.5]) {
        const error = thrown(() => addon().transfer(fd, 0x76, [0xf4, bad], 0));
        expect(error.code).toBe('ERR_OUT_OF_RANGE');
        expect(error.message).toContain('writeBytes[1]');
      }
      expect(code(() => addon().transfer(fd, 0x76, new Uint16Array([1]) as unknown as Uint8Array, 0))).toBe('ERR_INVALID_ARG_TYPE');
      expect(code(() => addon().transfer(fd, 0x76, [], 0))).toBe('ERR_OUT_OF_RANGE');
      expect(code(() => addon().transfer(-1, 0x76, [0], 1))).toBe('ERR_OUT_OF_RANGE');
      expect(code(() => addon().open(''))).toBe('ERR_OUT_OF_RANGE');
      expect(code(() => addon().open(7 as unknown as string))).toBe('ERR_INVALID_ARG_TYPE');
      // The descriptor is still fine after all of that: the next good call reaches the kernel.
      expect(code(() => addon().transfer(fd, 0x76, Buffer.from([0xd0]), 1))).toBe('ENOTTY');
    } finally {
      addon().close(fd);
    }
  });
});

describe('NativeI2cDevTransport and LinuxBoard', () => {
  it('LinuxBoard uses the addon by default: a node that is not an adapter gives NotSupportedError (ENOTTY)', async () => {
    mkdirSync(join(dir, 'dev'));
    writeFileSync(join(dir, 'dev/i2c-1'), '');
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root: dir });
    const error = await board.openI2c({ bus: 'i2c1', address: 0x76 }).readRegister(0xd0, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect((error as Error).message).toBe(`${join(dir, 'dev/i2c-1')} 0x76: not an i2c-dev adapter (ENOTTY: ioctl I2C_RDWR refused; expected a /dev/i2c-N node)`);
    expect((error as Error).cause).toMatchObject({ code: 'ENOTTY' });
    await board.close();
  });

  it('a missing bus node gives PinError naming it (ENOENT)', async () => {
    const transport = new NativeI2cDevTransport();
    const error = await transport.transfer(99, 0x76, { write: Uint8Array.of(0xd0), readCount: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PinError);
    expect((error as Error).message).toMatch(/^\/dev\/i2c-99: no such I2C adapter \(ENOENT\)/);
    await transport.close();
  });

  it('transferSync gives the same typed error without a promise', () => {
    mkdirSync(join(dir, 'dev'));
    writeFileSync(join(dir, 'dev/i2c-2'), '');
    const transport = new NativeI2cDevTransport({ devDir: join(dir, 'dev') });
    expect(() => transport.transferSync(2, 0x40, { write: Uint8Array.of(0xe3), readCount: 3 })).toThrow(NotSupportedError);
    expect(() => transport.transferSync(2, 0x40, { readCount: 0 })).toThrow(ValidationError);
    return transport.close();
  });

  it('opens each bus once, closes every fd on close(), then refuses transfers', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    mkdirSync(join(dir, 'dev'));
    writeFileSync(join(dir, 'dev/i2c-1'), '');
    writeFileSync(join(dir, 'dev/i2c-3'), '');
    const before = fds();
    const transport = new NativeI2cDevTransport({ devDir: join(dir, 'dev') });
    for (const bus of [1, 1, 3, 3, 1]) await transport.transfer(bus, 0x48, { readCount: 2 }).catch(() => undefined);
    expect(fds()).toBe(before + 2);
    await transport.close();
    expect(fds()).toBe(before);
    await expect(transport.transfer(1, 0x48, { readCount: 2 })).rejects.toBeInstanceOf(StateError);
  });
});

describe('NativeI2cDevTransport: checks and errno mapping (addon double)', () => {
  /** An addon double that records calls and fails the transfer with `errno`. */
  const double = (errno?: string): I2cDevAddon & { calls: unknown[] } => {
    const calls: unknown[] = [];
    return {
      calls,
      open: (path) => (calls.push(['open', path]), 3),
      transfer(fd, address, write, readLength) {
        calls.push(['transfer', fd, address, Array.from(write ?? []), readLength]);
        if (errno !== undefined) throw Object.assign(new Error(`${errno}: ioctl`), { code: errno });
        return Buffer.alloc(readLength, 0x5a);
      },
      transferAsync(fd, address, write, readLength) {
        try {
          return Promise.resolve(this.transfer(fd, address, write, readLength));
        } catch (error) {
          return Promise.reject(error as Error);
        }
      },
      close: (fd) => void calls.push(['close', fd]),
    };
  };

  it('refuses bad input with ValidationError before anything reaches the addon', async () => {
    const fake = double();
    const transport = new NativeI2cDevTransport({ addon: fake });
    const bad: Array<[number, number, { write?: Uint8Array; readCount?: number }, string]> = [
      [1, 0x02, { readCount: 1 }, 'address'],
      [1, 0x78, { readCount: 1 }, 'address'],
      [1, 0x76, { readCount: I2C_MAX_MESSAGE_LENGTH + 1 }, 'readCount'],
      [1, 0x76, { readCount: 1.5 }, 'readCount'],
      [1, 0x76, { write: new Uint8Array(I2C_MAX_MESSAGE_LENGTH + 1) }, 'write'],
      [1, 0x76, {}, 'transfer'],
      [-1, 0x76, { readCount: 1 }, 'bus'],
    ];
    for (const [bus, address, transfer, path] of bad) {
      await expect(transport.transfer(bus, address, transfer)).rejects.toMatchObject({ code: 'ERR_VALIDATION', path });
    }
    // Bytes outside 0 … 255 are refused by the I2C device before the transport (no wrap of 256 to 0).
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root: dir, i2c: transport });
    await expect(board.openI2c({ address: 0x76 }).write([0x100])).rejects.toBeInstanceOf(ArgumentError);
    expect(fake.calls).toEqual([]);
    expect(Array.from(await transport.transfer(1, 0x03, { write: Uint8Array.of(1, 2), readCount: 2 }))).toEqual([0x5a, 0x5a]);
    expect(fake.calls).toEqual([['open', '/dev/i2c-1'], ['transfer', 3, 0x03, [1, 2], 2]]);
  });

  it('maps each errno to the typed error drivers and quality already understand', async () => {
    const cases: Array<[string, new (...args: never[]) => Error, string]> = [
      ['ENXIO', BusError, 'ERR_I2C_NAK'],
      ['EREMOTEIO', BusError, 'ERR_I2C_NAK'],
      ['EIO', BusError, 'ERR_I2C_NAK'],
      ['ETIMEDOUT', BusError, 'ERR_BUS_TIMEOUT'],
      ['EAGAIN', BusError, 'ERR_BUS_TIMEOUT'],
      ['ENOTTY', NotSupportedError, 'ERR_NOT_SUPPORTED'],
      ['EOPNOTSUPP', NotSupportedError, 'ERR_NOT_SUPPORTED'],
      ['EACCES', PinError, 'ERR_PIN'],
      ['ENOENT', PinError, 'ERR_PIN'],
      ['EBADF', StateError, 'ERR_STATE'],
      ['EWHATEVER', BusError, 'ERR_BUS_TIMEOUT'],
    ];
    for (const [errno, type, code] of cases) {
      const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root: dir, i2c: new NativeI2cDevTransport({ addon: double(errno) }) });
      const error = await board.openI2c({ address: 0x76 }).readRegister(0xd0, 1).catch((e: unknown) => e);
      expect(error, errno).toBeInstanceOf(type);
      expect(error, errno).toMatchObject({ code, cause: { code: errno } });
      expect((error as Error).message, errno).toContain('/dev/i2c-1');
      await board.close();
    }
    expect(i2cDevError(Object.assign(new Error('x'), { code: 'ENXIO' }), '/dev/i2c-1', 0x76).message).toBe('/dev/i2c-1 0x76: no acknowledge from the peripheral (ENXIO)');
  });

  it('close() waits for a transfer in flight before closing its descriptor (no ioctl on a reused fd)', async () => {
    const fake = double();
    let finish: (bytes: Buffer) => void = () => undefined;
    fake.transferAsync = () => new Promise<Buffer>((resolve) => (finish = resolve));
    const transport = new NativeI2cDevTransport({ addon: fake });
    const pending = transport.transfer(1, 0x76, { write: Uint8Array.of(0xd0), readCount: 1 });
    let closed = false;
    const closing = transport.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect(fake.calls).toEqual([['open', '/dev/i2c-1']]);
    await expect(transport.transfer(1, 0x76, { readCount: 1 })).rejects.toBeInstanceOf(StateError);
    finish(Buffer.of(0x60));
    expect(Array.from(await pending)).toEqual([0x60]);
    await closing;
    expect(fake.calls).toEqual([['open', '/dev/i2c-1'], ['close', 3]]);
  });

  it('without the addon, a transfer says how to build it', async () => {
    const board = new LinuxBoard({ definition: 'raspberry-pi-4', clock: new VirtualClock(), root: dir, i2c: new NativeI2cDevTransport({ addon: null, devDir: '/dev' }) });
    const error = await board.openI2c({ address: 0x76 }).readRegister(0xd0, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect((error as Error).message).toMatch(/^I2C on \/dev\/i2c-1 needs ioctl\(I2C_RDWR\).*not built.*build it with `node boards\/linux\/native\/build\.js`/);
  });
});
