#!/usr/bin/env node
'use strict';
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
