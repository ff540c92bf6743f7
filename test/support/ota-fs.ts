/**
 * A file-system shim for disk-full tests: the real file system, except that writes fail with ENOSPC
 * once `budgetBytes` have been written through it, and statfs reports `freeBytes`.
 */
import type { FileHandle } from 'node:fs/promises';
import { nodeFileSystem, type OtaFileSystem } from '../../ota/agent/file-system.js';

function enospc(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('ENOSPC: no space left on device, write');
  error.code = 'ENOSPC';
  error.errno = -28;
  error.syscall = 'write';
  return error;
}

export function diskFullFileSystem(options: { budgetBytes: number; freeBytes?: number }): OtaFileSystem & { written(): number } {
  let written = 0;
  const charge = (bytes: number): void => {
    if (written + bytes > options.budgetBytes) throw enospc();
    written += bytes;
  };
  const wrap = (handle: FileHandle): FileHandle =>
    new Proxy(handle, {
      get(target, property) {
        if (property === 'write') {
          return async (buffer: Uint8Array | string, ...rest: unknown[]) => {
            const length = typeof buffer === 'string' ? Buffer.byteLength(buffer) : typeof rest[1] === 'number' ? rest[1] : buffer.length;
            charge(length);
            return (target.write as (...args: unknown[]) => Promise<unknown>)(buffer, ...rest);
          };
        }
        if (property === 'writeFile') {
          return async (data: Uint8Array | string) => {
            charge(typeof data === 'string' ? Buffer.byteLength(data) : data.length);
            return target.writeFile(data);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  return {
    ...nodeFileSystem,
    open: (async (...args: Parameters<typeof nodeFileSystem.open>) => wrap(await nodeFileSystem.open(...args))) as typeof nodeFileSystem.open,
    statfs: (async (...args: Parameters<typeof nodeFileSystem.statfs>) => {
      const stats = await nodeFileSystem.statfs(...args);
      if (options.freeBytes === undefined) return stats;
      return { ...stats, bsize: 4096, bavail: Math.floor(options.freeBytes / 4096) };
    }) as typeof nodeFileSystem.statfs,
    written: () => written,
  };
}
