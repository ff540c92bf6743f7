/** Every fuzz target, in the order the runs go through them. */
import type { FuzzTarget } from '../target.js';
import { deviceFileTarget } from './device-file.js';
import { cborReaderTarget, senmlCborTarget } from './encoding.js';
import { firmataTarget } from './firmata.js';
import { commandPayloadTarget, settingPayloadTarget } from './mqtt-payloads.js';
import { otaVerifyTarget, suitReaderTarget } from './ota.js';
import { outboxTarget } from './outbox.js';

export const TARGETS: readonly FuzzTarget<unknown>[] = [
  cborReaderTarget,
  senmlCborTarget,
  otaVerifyTarget,
  suitReaderTarget,
  firmataTarget,
  commandPayloadTarget,
  settingPayloadTarget,
  deviceFileTarget,
  outboxTarget,
];
