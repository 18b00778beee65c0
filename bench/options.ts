/**
 * The bench's command-line options (after `--` of `npm run bench`) and the targets it reports
 * against. Read once at start; nothing else in the bench parses argv.
 */
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const APP_DIR = path.join(ROOT, 'bench', 'app');

// The targets on this 2-core machine (no-op activities).
export const TARGETS = {
  orchestrationsPerSec: 1000,
  p99StepDelayMs: 10,
  chain1000Ms: 5000,
  chainRatio: 2.5,
  idleStartToDoneMs: 15,
  waitingRssMB: 300,
};

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] ?? 'true';
  }
  return out;
}

export interface BenchOptions {
  only?: Set<string>;
  orchestrations: number;
  steps: number;
  chains: number[];
  out: string;
  /** The step-delay target applies at 80 % of the throughput target, offered steadily. */
  pacedRate: number;
  waiting: number;
  sagas: number;
  repeat: number;
  bounded: number[];
  /** From outside over HTTP: the first count runs `repeat` times (median reported), the others once. */
  http: number[];
  httpInFlight: number;
  httpWarmup: number;
  // Experiments only (the default run uses bench/app as it is, 100/100, and the store's own pragmas).
  maxOrch?: number;
  maxAct?: number;
  pragmas: string[];
  memoryStore: boolean;
}

export function readOptions(argv: string[]): BenchOptions {
  const args = parseArgs(argv);
  return {
    only: args.only ? new Set(args.only.split(',')) : undefined,
    orchestrations: Number(args.orchestrations ?? 1000),
    steps: Number(args.steps ?? 5),
    chains: (args.chains ?? '500,1000').split(',').map(Number),
    out: path.resolve(args.out ?? path.join(ROOT, 'bench', 'results', 'latest.json')),
    pacedRate: Number(args['paced-rate'] ?? 800),
    waiting: Number(args.waiting ?? 10000),
    sagas: Number(args.sagas ?? 100),
    repeat: Math.max(1, Number(args.repeat ?? 3)),
    bounded: (args.bounded ?? '50')
      .split(',')
      .map(Number)
      .filter((n) => n > 0),
    http: (args.http ?? '1000,2000')
      .split(',')
      .map(Number)
      .filter((n) => n > 0),
    httpInFlight: Number(args['http-in-flight'] ?? 50),
    httpWarmup: Number(args['http-warmup'] ?? 500),
    maxOrch: args['max-orch'] ? Number(args['max-orch']) : undefined,
    maxAct: args['max-act'] ? Number(args['max-act']) : undefined,
    pragmas: args.pragma ? args.pragma.split(';').filter(Boolean) : [],
    memoryStore: args.memory === 'true',
  };
}
