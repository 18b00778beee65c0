/**
 * The shape of one bench run, as written to bench/results/latest.json and read by the report:
 * declared once, so the report reads typed fields instead of casting them back.
 */
import type { ChainResult } from './scenarios/chain';
import type { ChangeCostResult } from './scenarios/changeCost';
import type { SagaResult, WaitingResult } from './scenarios/childProcess';
import type { FromOutsideRun } from './scenarios/fromOutside';
import type { IdleLatencyResult } from './scenarios/idleLatency';
import type { LoadResult } from './scenarios/load';
import type { LibraryOrchestrationsResult, ReplayResult } from './scenarios/replay';
import type { SqliteResult } from './scenarios/sqlite';

export interface BenchResults {
  when: string;
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemMB: number;
    node: string;
    platform: string;
    durableFunctions: string;
    azureFunctions: string;
    betterSqlite3: string;
    /** The Node arguments the bench (and so the host it measures) ran with. */
    nodeArguments: string[];
  };
  store: { memory: true } | { dataDir: string; journal: string; synchronous: string };
  app: { dir: string; maxConcurrentActivityFunctions: number; maxConcurrentOrchestratorFunctions: number };
  experiment: { maxOrch: number | null; maxAct: number | null; pragmas: string[]; memoryStore: boolean };
  loadAverageAtStart: number[];
  sqlite?: SqliteResult;
  replay?: Record<string, ReplayResult>;
  libraryOrchestrations?: LibraryOrchestrationsResult;
  idleLatency?: IdleLatencyResult;
  /** The median of the burst runs. */
  concurrent?: LoadResult;
  concurrentRuns?: { orchestrationsPerSec: number; p50StepDelayMs: number; p99StepDelayMs: number }[];
  paced?: LoadResult;
  /** At 80 % of the measured capacity, when that is below the paced rate. */
  pacedRelative?: LoadResult;
  /** One per in-flight bound N, as `boundedN`. */
  [bounded: `bounded${number}`]: LoadResult | undefined;
  chains?: { runs: ChainResult[]; ratio1000to500: number | null };
  storeFileMB?: { db: number; wal: number };
  liveSessions?: {
    hits: number;
    misses: number;
    evictions: number;
    /** The backend's group commits and the writes they carried. */
    commits: { commits: number; writes: number };
  };
  /** Started over HTTP by a separate process (`--only=http`). */
  fromOutside?: {
    warmup: number;
    /** The median of the runs of the first count. */
    median: FromOutsideRun;
    runs: { orchestrationsPerSec: number; startLatencyP99Ms: number; p99StepDelayMs: number }[];
    /** The other counts (2,000 by default), once each. */
    larger: FromOutsideRun[];
  };
  waiting?: WaitingResult;
  saga?: SagaResult;
  /** A Dataverse change of 5 and 50 operations, atomic and operation by operation. */
  changeCost?: ChangeCostResult;
  processMemoryAtEnd?: { rssMB: number; heapUsedMB: number };
  benchSeconds?: number;
  loadAverageAtEnd?: number[];
}
