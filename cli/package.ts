/** `node dist/cli/package.js [--out FILE] [--root DIR]` — what `npm run package` runs after the build (see package/build.ts). */
import { main } from './package/build';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
