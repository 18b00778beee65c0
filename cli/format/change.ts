/**
 * What a Dataverse change did or would do, for people: the few lines `blc` prints after a change
 * completes ("Created account "Lindqvist Physio" (…); updated contact "Emma Visser" (…): jobtitle →
 * Practice manager."), and a dry run's plan, operation by operation, with the problems its write
 * would be refused for. Reads the orchestration's output, an untyped value, defensively: an output
 * from before names were recorded still reads (records then show their GUID). Formatting only.
 */
import type { LookupNames, PlanProblem } from '../../lib/contracts/responses';
import { fieldText, recordName, valueText } from './records';

interface FieldChange {
  before?: unknown;
  after?: unknown;
}

/** An operation of a dataverseChange plan, as far as it is shown (the app's PlannedOperation). */
interface PlannedOperation {
  index: number;
  op: string;
  table: string;
  id?: string;
  key?: Record<string, unknown>;
  entity?: string;
  name?: string;
  exists?: boolean;
  inDesiredState?: boolean;
  changes?: Record<string, FieldChange>;
  lookupNames?: LookupNames;
  problems?: PlanProblem[];
}

/** An applied operation (the app's ApplyResult). */
interface ApplyResult {
  index: number;
  table: string;
  id: string;
  entity?: string;
  name?: string;
  action: 'created' | 'updated' | 'deleted' | 'unchanged';
  changed?: Record<string, FieldChange>;
}

export interface ChangeOutput {
  dryRun: boolean;
  plan: PlannedOperation[];
  results?: ApplyResult[];
  rollbackPointId?: string;
  problems?: PlanProblem[];
  wouldFail?: boolean;
  atomicFallback?: string;
}

/** The output of a dataverseChange, when `output` is one. */
export function asChangeOutput(output: unknown): ChangeOutput | undefined {
  const o = output as Partial<ChangeOutput> | null;
  return o && typeof o === 'object' && typeof o.dryRun === 'boolean' && Array.isArray(o.plan)
    ? (o as ChangeOutput)
    : undefined;
}

function changesText(changes: Record<string, FieldChange> | undefined, names?: LookupNames): string {
  const entries = Object.entries(changes ?? {});
  return entries.map(([f, c]) => `${fieldText(f)} → ${valueText(c.after, names)}`).join(', ');
}

/** The sentence of what a completed change did; undefined for a dry run. */
export function changeSummary(output: ChangeOutput): string | undefined {
  if (output.dryRun) return undefined;
  const results = output.results ?? [];
  const named = (r: ApplyResult): string => {
    const planned = output.plan.find((p) => p.index === r.index);
    return recordName({ ...r, entity: r.entity ?? planned?.entity, name: r.name ?? planned?.name });
  };
  const of = (action: ApplyResult['action']): ApplyResult[] => results.filter((r) => r.action === action);
  const parts: string[] = [];
  if (of('created').length) parts.push(`created ${of('created').map(named).join(', ')}`);
  const updated = of('updated').map((r) => {
    const fields = changesText(r.changed, output.plan.find((p) => p.index === r.index)?.lookupNames);
    return fields ? `${named(r)}: ${fields}` : named(r);
  });
  if (updated.length) parts.push(`updated ${updated.join('; ')}`);
  if (of('deleted').length) parts.push(`deleted ${of('deleted').map(named).join(', ')}`);
  const unchanged = of('unchanged').length + output.plan.filter((p) => p.inDesiredState).length;
  if (unchanged) parts.push(`${unchanged} already as desired`);
  const text = parts.length ? parts.join('; ') : 'nothing needed changing';
  return `${text[0].toUpperCase()}${text.slice(1)}.`;
}

function target(p: PlannedOperation): string {
  const name = recordName({ table: p.table, id: p.id, entity: p.entity, name: p.name });
  if (p.exists || !p.key) return name;
  return `${name} ${Object.entries(p.key)
    .map(([k, v]) => `${k}=${valueText(v)}`)
    .join(', ')}`;
}

function verb(p: PlannedOperation): string {
  if (p.inDesiredState) return 'nothing to write (already as desired)';
  if (p.op === 'delete') return 'would delete';
  return p.exists ? 'would update' : 'would create';
}

function problemText(p: PlanProblem): string {
  return `${p.field ? `${p.field}: ` : ''}${p.code}: ${p.message}`;
}

/**
 * A dry run's plan: each operation (numbered #1.. as people count) with what it would write, field by
 * field, and the problems found for it; then the verdict.
 */
export function dryRunText(output: ChangeOutput): string[] {
  const problems = output.problems ?? output.plan.flatMap((p) => p.problems ?? []);
  const lines: string[] = [`Plan (dry run, nothing was written): ${output.plan.length} operation(s)`];
  for (const p of output.plan) {
    lines.push(`  #${p.index + 1} ${p.op} ${target(p)}: ${verb(p)}`);
    if (p.op !== 'delete' && !p.inDesiredState)
      for (const [field, c] of Object.entries(p.changes ?? {}))
        lines.push(
          `       ${fieldText(field)}: ${valueText(c.before, p.lookupNames)} → ${valueText(c.after, p.lookupNames)}`,
        );
    for (const problem of problems.filter((x) => x.operation === p.index))
      lines.push(`       problem: ${problemText(problem)}`);
  }
  const loose = problems.filter((x) => !output.plan.some((p) => p.index === x.operation));
  for (const problem of loose) lines.push(`  operation #${problem.operation + 1}: ${problemText(problem)}`);
  if (output.wouldFail || problems.length)
    lines.push(`Problems: ${problems.length}; this change would fail. Fix the input before running it.`);
  else lines.push('No problems found: the change can run.');
  if (output.atomicFallback)
    lines.push(`It would run operation by operation, not as one changeset: ${output.atomicFallback}.`);
  return lines;
}

/** The error line's words for a dry run that found problems. */
export function wouldFailMessage(output: ChangeOutput): string {
  const problems = output.problems ?? output.plan.flatMap((p) => p.problems ?? []);
  const where = problems
    .slice(0, 3)
    .map((p) => `operation #${p.operation + 1}${p.field ? ` ${p.field}` : ''} ${p.code}`)
    .join(', ');
  return `this change would fail: ${problems.length} problem(s)${where ? ` (${where}${problems.length > 3 ? ', …' : ''})` : ''}`;
}
