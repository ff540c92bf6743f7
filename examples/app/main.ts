/**
 * An application on the runtime library: it starts a device with its board and services in one
 * call, prints each reported reading, and stops in order on Ctrl-C or SIGTERM (the outbox flushed
 * within 2 s). On the emulated board with MQTT to an embedded broker by default; a deployment
 * passes the settings of its sensorkit.config.json instead (see `loadConfigFile`).
 *
 * Run it from the repository: `node --import ./bin/register-ts.js examples/app/main.ts`
 * In a project of your own, import from `sensorkit/runtime` instead of the relative path.
 */
import { fileURLToPath } from 'node:url';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../sdk/runtime/index.js';

/**
 * Starts the device of this folder; `settings` override the defaults (emulated board, embedded
 * broker, no OPC UA).
 *
 * @example
 * ```ts
 * const runtime = await startApp({ mqtt: false })
 * await runtime.stop()
 * ```
 */
export async function startApp(settings: Partial<RuntimeOptions> = {}, print = (line: string) => console.log(line)): Promise<Runtime> {
  const runtime = await startRuntime({ device: fileURLToPath(new URL('./device.ts', import.meta.url)), opcua: false, ...settings });
  runtime.device.on('report', (sample) => print(`${sample.channel} ${sample.value?.toFixed(2)} ${sample.unit} (${sample.quality.level})`));
  runtime.device.on('alarm', (event) => print(`alarm ${event.alarm} ${event.state}: ${event.message}`));
  return runtime;
}

// Run as a program (not imported by a test): until Ctrl-C or SIGTERM.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runtime = await startApp();
  console.log(`running ${runtime.device.model.id} on ${runtime.boardDescription}; MQTT ${runtime.transport?.url ?? 'off'}`);
  const stop = async (): Promise<void> => {
    await runtime.stop();
    console.log('stopped');
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
