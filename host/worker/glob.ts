/**
 * The small glob dialect Azure Functions accepts in package.json `main` ("dist/src/functions/*.js",
 * "dist/{a,b}/**\/*.js"): braces, `*`, `?`, `**`. Returns files only, sorted, relative paths joined
 * onto `root`.
 */
import fs from 'node:fs';
import path from 'node:path';

export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++;
    else if (pattern[i] === '}' && --depth === 0) {
      const inner = pattern.slice(open + 1, i);
      const parts = splitTopLevel(inner);
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      return parts.flatMap((p) => expandBraces(head + p + tail));
    }
  }
  return [pattern];
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function segmentRegex(segment: string): RegExp {
  const body = segment
    .replace(/[.+^$()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function walk(dir: string, segments: string[], out: Set<string>): void {
  if (segments.length === 0) {
    if (fs.existsSync(dir) && fs.statSync(dir).isFile()) out.add(dir);
    return;
  }
  const [head, ...rest] = segments;
  if (head === '**') {
    walk(dir, rest, out);
    for (const entry of safeReaddir(dir)) {
      if (entry.isDirectory() && entry.name !== 'node_modules')
        walk(path.join(dir, entry.name), segments, out);
    }
    return;
  }
  if (!/[*?]/.test(head)) {
    walk(path.join(dir, head), rest, out);
    return;
  }
  const re = segmentRegex(head);
  for (const entry of safeReaddir(dir)) {
    if (re.test(entry.name)) walk(path.join(dir, entry.name), rest, out);
  }
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

export function globFiles(root: string, pattern: string): string[] {
  const out = new Set<string>();
  for (const expanded of expandBraces(pattern)) {
    const segments = expanded.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
    walk(root, segments, out);
  }
  return [...out].sort();
}
