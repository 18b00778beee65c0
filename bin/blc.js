#!/usr/bin/env node
'use strict';
// A reader that stops early (`blc list | head`) closes the pipe: that is not an error of blc's.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(process.exitCode || 0);
  throw err;
});
require('../dist/cli/blc.js')
  .main(process.argv.slice(2))
  .then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err) => {
      console.error(`blc: ${err && err.message ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
