#!/usr/bin/env node
// The `sensorkit` binary. Inside sensorkit's repository (the TypeScript sources sit beside this
// file) it runs the sources through ts-node's transpiler, so `npm start` works without a build. As
// an installed package it runs the compiled dist/, and loads TypeScript only when the user's own
// device or config file is .ts (ts-node and typescript are optional peer dependencies).
import { existsSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { mentionsTypeScript } from './user-files.js';

const source = new URL('../sdk/cli/main.ts', import.meta.url);
const args = process.argv.slice(2);
// The sources run when they are here and ts-node is beside them (the repository after `npm ci`);
// a git checkout installed without its devDependencies runs the dist/ its `prepare` built.
const fromSource = existsSync(source) && resolvable('ts-node');

if (fromSource) {
  await import('./register-ts.js');
} else if (mentionsTypeScript(args)) {
  const { TYPESCRIPT_MISSING, typeScriptRequire } = await import('./ts-cache.js');
  if (typeScriptRequire() === undefined) {
    process.stderr.write(`sensorkit: ${TYPESCRIPT_MISSING}\n`);
    process.exit(1);
  }
  register('./ts-hooks.js', import.meta.url, { data: { scope: 'user' } });
}

const { main } = await import(fromSource ? source.href : '../dist/sdk/cli/main.js');
process.exitCode = await main(args);

function resolvable(name) {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}
