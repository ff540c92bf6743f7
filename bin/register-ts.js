// Lets Node load sensorkit's TypeScript sources directly (ts-node's ESM loader, transpile only:
// `npm run typecheck` is where types are checked). Used as `node --import ./bin/register-ts.js file.ts`.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

process.env.TS_NODE_TRANSPILE_ONLY ??= 'true';
register('ts-node/esm', pathToFileURL(new URL('../', import.meta.url).pathname));
