// Copies the dashboard's static files (HTML, CSS, images) next to its compiled scripts in dist/ui.
const fs = require('node:fs');
const path = require('node:path');

const source = __dirname;
const target = path.join(__dirname, '..', 'dist', 'ui');
const STATIC = /\.(html|css|svg|png|ico)$/;

fs.mkdirSync(target, { recursive: true });
fs.cpSync(source, target, {
  recursive: true,
  filter: (from) => fs.statSync(from).isDirectory() || STATIC.test(from),
});
