#!/usr/bin/env node
// The `sensorkit` binary runs the TypeScript sources directly through ts-node's ESM loader
// (transpile only; `npm run typecheck` checks types), so `npx sensorkit` works right after `npm ci`
// without a build step, and device files may be TypeScript.
import './register-ts.js';

const { main } = await import('../sdk/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
