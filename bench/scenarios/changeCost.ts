/**
 * Scenario changeCost: what one Dataverse change costs, atomic (one $batch of reads, one changeset)
 * against operation by operation (`atomic: false`), for 5 and 50 operations: Dataverse requests,
 * activity dispatches, orchestrator episodes and wall time. Runs bench/changeCost.ts in a child
 * process (it hosts the Life Cockpit app with the Dataverse simulator and Azurite).
 */
import { runChild } from './childProcess';

export interface ChangeCostRow {
  operations: number;
  atomic: boolean;
  runs: number;
  /** Requests the simulator received for one change (median over the runs), metadata already cached. */
  dataverseRequests: number;
  activityDispatches: number;
  episodes: number;
  /** Start to completed, one change at a time on an idle host. */
  wallMs: { p50: number; min: number; max: number };
}

export interface ChangeCostResult {
  rows: ChangeCostRow[];
}

/** The targets for a 5-operation Dataverse-only change, after cached metadata. */
export const CHANGE_COST_TARGETS = { requests: 3, activityDispatches: 4 };

export function benchChangeCost(dir: string, runs: number): Promise<ChangeCostResult> {
  return runChild<ChangeCostResult>('changeCost.js', [`--runs=${runs}`, `--dir=${dir}`]);
}
