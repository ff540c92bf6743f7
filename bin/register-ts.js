// Lets Node load sensorkit's TypeScript sources directly, inside its repository:
// `node --import ./bin/register-ts.js file.ts`. Transpiled by ts-node (transpile only; `npm run
// typecheck` checks types), cached by content. `sensorkit/...` imports resolve to the sources.
import { register } from 'node:module';

register('./ts-hooks.js', import.meta.url, { data: { scope: 'repo' } });
