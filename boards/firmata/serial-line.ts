/**
 * Serial lines for Firmata boards: opening a port with serialport 13 as a {@link LineOpener}, and
 * listing the ports of this machine.
 */
import { existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { StateError } from '../../sdk/core/errors.js';
import type { LineOpener } from './options.js';

/** StandardFirmata's baud rate. */
export const FIRMATA_BAUD = 57_600;

/**
 * A line opener for a serial port path; each call opens the port anew (first open and reconnects).
 * Rejects with `StateError` when the port cannot be opened (missing, busy, no permission).
 *
 * @example
 * ```ts
 * const board = await FirmataBoard.open({ line: serialLine('/dev/ttyACM0'), clock, describe: '/dev/ttyACM0' })
 * ```
 */
export function serialLine(path: string, baudRate = FIRMATA_BAUD): LineOpener {
  return () =>
    new Promise<Duplex>((resolvePort, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      port.open((error) => {
        if (error) reject(new StateError(`cannot open serial port ${path}: ${error.message}`));
        else resolvePort(port);
      });
    });
}

/** One serial port of this machine. */
export interface SerialPortInfo {
  readonly path: string;
  /** A stable alias from /dev/serial/by-id, when there is one. */
  readonly byId?: string;
  /** Human description: manufacturer and product, or what the path says. */
  readonly description: string;
  readonly manufacturer?: string;
  readonly vendorId?: string;
  readonly productId?: string;
  readonly serialNumber?: string;
}

/** USB vendor ids of common Arduino-class boards and USB-serial chips. */
const KNOWN_VENDORS: Readonly<Record<string, string>> = {
  '2341': 'Arduino',
  '2a03': 'Arduino (arduino.org)',
  '1a86': 'QinHeng CH340 USB-serial (Arduino clone)',
  '0403': 'FTDI USB-serial',
  '10c4': 'Silicon Labs CP210x USB-serial',
  '067b': 'Prolific PL2303 USB-serial',
  '239a': 'Adafruit',
  '2e8a': 'Raspberry Pi (RP2040)',
};

function describePort(info: { path: string; manufacturer?: string | undefined; vendorId?: string | undefined; byId?: string | undefined }): string {
  const vendor = info.vendorId === undefined ? undefined : KNOWN_VENDORS[info.vendorId.toLowerCase()];
  if (info.manufacturer) return vendor && !info.manufacturer.includes(vendor) ? `${info.manufacturer} (${vendor})` : info.manufacturer;
  if (vendor) return vendor;
  if (info.byId) return basename(info.byId).replace(/^usb-/, '').replace(/-if\d+.*$/, '').replace(/_+/g, ' ');
  const name = basename(info.path);
  if (name.startsWith('ttyACM')) return 'USB CDC-ACM serial device (Arduino Uno/Mega/Leonardo class)';
  if (name.startsWith('ttyUSB')) return 'USB-serial adapter (FTDI/CH340/CP210x class)';
  return 'serial port';
}

/**
 * Lists serial ports: serialport's own listing first; where it fails (it spawns `udevadm`, absent in
 * containers: ENOENT) a scan of /dev/ttyACM*, /dev/ttyUSB* and /dev/serial/by-id. Never throws.
 *
 * @example
 * ```ts
 * for (const port of await listSerialPorts()) console.log(port.path, port.description)
 * ```
 */
export async function listSerialPorts(options: { devRoot?: string; useSerialport?: boolean } = {}): Promise<{ ports: SerialPortInfo[]; source: 'serialport' | 'scan'; note?: string }> {
  const devRoot = options.devRoot ?? '/dev';
  const byId = scanById(devRoot);
  let note: string | undefined;
  if (options.useSerialport !== false) {
    try {
      const listed = await SerialPort.list();
      const usable = listed.filter((port) => /tty(ACM|USB|AMA|S\d)/.test(port.path) || port.vendorId !== undefined);
      if (usable.length > 0) {
        return {
          source: 'serialport',
          ports: usable.map((port) => {
            const alias = byId.get(resolvePath(port.path));
            return {
              path: port.path,
              ...(alias ? { byId: alias } : {}),
              description: describePort({ path: port.path, manufacturer: port.manufacturer, vendorId: port.vendorId, byId: alias }),
              ...(port.manufacturer ? { manufacturer: port.manufacturer } : {}),
              ...(port.vendorId ? { vendorId: port.vendorId } : {}),
              ...(port.productId ? { productId: port.productId } : {}),
              ...(port.serialNumber ? { serialNumber: port.serialNumber } : {}),
            };
          }),
        };
      }
    } catch (error) {
      note = `serialport could not list ports (${(error as Error).message.split('\n')[0]}); scanned ${devRoot} instead`;
    }
  }
  const paths = new Set<string>();
  try {
    for (const name of readdirSync(devRoot)) if (/^tty(ACM|USB)\d+$/.test(name)) paths.add(join(devRoot, name));
  } catch {
    // No /dev to read: no ports.
  }
  for (const target of byId.keys()) paths.add(target);
  const ports = [...paths].sort().map((path) => {
    const alias = byId.get(path);
    return { path, ...(alias ? { byId: alias } : {}), description: describePort({ path, byId: alias }) };
  });
  return { source: 'scan', ports, ...(note ? { note } : {}) };
}

function resolvePath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** /dev/serial/by-id aliases, by the device they point to. */
function scanById(devRoot: string): Map<string, string> {
  const dir = join(devRoot, 'serial', 'by-id');
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  try {
    for (const name of readdirSync(dir)) {
      const link = join(dir, name);
      try {
        out.set(resolve(dir, readlinkSync(link)), link);
      } catch {
        // Not a link: skip it.
      }
    }
  } catch {
    // Unreadable: no aliases.
  }
  return out;
}
