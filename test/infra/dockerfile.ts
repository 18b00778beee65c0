/**
 * Reads a Dockerfile into stages of instructions (line continuations joined, comments dropped,
 * ARG defaults substituted into FROM), enough to check its rules and to lay out the final image's
 * files the way its COPY lines would. No Docker engine runs on these machines.
 */
import fs from 'node:fs';

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, as written. */
  args: string;
  line: number;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export function readDockerfile(file: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let text = lines[i];
    if (/^\s*(#|$)/.test(text)) continue;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i];
      if (/^\s*#/.test(next)) continue;
      text = `${text.slice(0, -1)} ${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(text);
    if (!m) throw new Error(`${file}:${start}: cannot read '${text}'`);
    const keyword = m[1].toUpperCase();
    const rest = m[2].trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(
        rest.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? ''),
      );
      if (!from) throw new Error(`${file}:${start}: cannot read FROM ${rest}`);
      stages.push({ from: from[1], name: from[2], instructions: [] });
    } else if (keyword === 'ARG' && stages.length === 0) {
      const [name, value] = rest.split('=');
      args.set(name, value ?? '');
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${file}:${start}: ${keyword} before FROM`);
      stage.instructions.push({ keyword, args: rest, line: start });
    }
  }
  return { args, stages };
}

export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The JSON (exec) form of CMD / HEALTHCHECK CMD; the shell form is refused (signals would go to sh). */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`not an exec-form array: ${args}`);
  return parsed as string[];
}

/** ENV instructions as a map (the `KEY=value KEY2=value2` form). */
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of all(stage, 'ENV'))
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env.set(m[1], m[2].replace(/^"|"$/g, ''));
  return env;
}

export interface CopyLine {
  from?: string;
  sources: string[];
  dest: string;
}

export function copiesOf(stage: Stage): CopyLine[] {
  return all(stage, 'COPY').map((i) => {
    const words = i.args.split(/\s+/);
    let from: string | undefined;
    while (words[0]?.startsWith('--')) {
      const flag = words.shift() as string;
      if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    }
    const dest = words.pop() as string;
    return { from, sources: words, dest };
  });
}
