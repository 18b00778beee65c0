/** The version of this package, read from its package.json at run time. */
import fs from 'node:fs';
import path from 'node:path';

export function projectRoot(): string {
  // Compiled files live in dist/cli; sources in cli/. Walk up to the package.json named life-cockpit.
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (
      fs.existsSync(pkg) &&
      (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'life-cockpit'
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find the life-cockpit package root');
    dir = parent;
  }
}

export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
