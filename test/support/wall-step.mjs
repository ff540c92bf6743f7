// Test support, loaded with `node --import` into a child process: offsets the child's wall clock
// (Date.now) by the number of ms written in the file named by SENSORKIT_WALL_STEP_FILE, re-read
// every 10 ms, as NTP or `date -s` steps the system clock. The monotonic counter
// (performance.now) is not touched, as a step of CLOCK_REALTIME leaves CLOCK_MONOTONIC alone.
// Write the file atomically (a temporary file renamed over it): an empty or partial read is ignored.
import { readFileSync } from 'node:fs';

const file = process.env.SENSORKIT_WALL_STEP_FILE;
if (file) {
  const realNow = Date.now;
  let offset = 0;
  const read = () => {
    let text;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      return;
    }
    const value = Number(text);
    if (text !== '' && Number.isFinite(value)) offset = value;
  };
  read();
  setInterval(read, 10).unref();
  Date.now = () => realNow() + offset;
}
