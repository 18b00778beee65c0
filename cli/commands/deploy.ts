/**
 * `blc deploy <manifest>`: sends a deployment manifest to the app (POST /api/deployments).
 * `--dry-run` checks the manifest here with the app's own validation and prints what the deployment
 * would change, without sending it; `--approve` approves it once it waits for approval; `--wait`
 * follows its state until it ends (exit 1 unless it succeeded). It never applies anything itself.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { parseJson, readText } from '../jsonText';
import {
  ManifestValidationError,
  configChangeOf,
  deploymentIdFor,
  validateManifest,
  type DeploymentManifest,
} from '../../lib/deployments/manifest';
import { BlcError, type ApiClient } from '../apiClient';
import { COMMON_HELP, flag, parse, positionals, str, type Parsed } from '../args';
import { fields, json, print, table } from '../output';
import type { Command } from './types';

const HELP = `Usage: blc deploy <manifest.json> [--dry-run] [--approve [--by NAME]] [--wait [--timeout S]]

Starts a deployment from a manifest file ('-' reads stdin).
  --dry-run     Validate the manifest here and show what it would change; send nothing
  --approve     Approve the deployment when it waits for approval (requireApproval: true)
  --by NAME     Who approves (kept in the deployment's record)
  --wait        Follow the deployment until it ends; exit 1 unless it succeeded
  --timeout S   Stop waiting after S seconds (exit 1)

${COMMON_HELP}`;

const FINAL = ['succeeded', 'rejected', 'rolled-back', 'failed'];

interface Deployment {
  id: string;
  version: string;
  state: string;
  error?: { code: string; message: string };
}

async function readManifest(file: string): Promise<unknown> {
  if (file !== '-') return parseJson(await readText(file), `the manifest ${file}`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return parseJson(Buffer.concat(chunks).toString('utf8'), 'the manifest (stdin)');
}

function validate(raw: unknown): DeploymentManifest {
  try {
    return validateManifest(raw);
  } catch (err) {
    if (err instanceof ManifestValidationError)
      throw new BlcError(1, err.code, err.message.replace(/^\[INVALID_MANIFEST\]\s*/, ''));
    throw err;
  }
}

/** What the deployment would do, in the order the saga does it. */
function dryRunPlan(m: DeploymentManifest): Record<string, unknown> {
  const config = configChangeOf(m);
  const operations = m.dataverse?.operations ?? [];
  return {
    deploymentId: deploymentIdFor(m.version),
    version: m.version,
    ...(m.description ? { description: m.description } : {}),
    approval: m.requireApproval
      ? { required: true, timeoutHours: m.approvalTimeoutHours ?? 24 }
      : { required: false },
    config: config
      ? 'value' in config
        ? { replace: Object.keys(config.value) }
        : { patch: Object.keys(config.patch) }
      : null,
    dataverse: operations.map((o) => {
      const op = o as unknown as Record<string, unknown>;
      return { op: op.op, table: op.table, target: op.id ?? op.key ?? null };
    }),
    healthCheckRecords: m.healthCheck?.records?.length ?? 0,
  };
}

function printDryRun(plan: Record<string, unknown>): void {
  const approval = plan.approval as { required: boolean; timeoutHours?: number };
  const config = plan.config as { replace?: string[]; patch?: string[] } | null;
  const ops = plan.dataverse as { op: unknown; table: unknown; target: unknown }[];
  print('Dry run: the manifest is valid; nothing was sent.');
  print(
    fields([
      ['deployment', plan.deploymentId],
      ['version', plan.version],
      ['description', plan.description],
      [
        'approval',
        approval.required ? `required (times out after ${approval.timeoutHours} h)` : 'not required',
      ],
      [
        'config',
        config
          ? config.replace
            ? `replace (keys: ${config.replace.join(', ')})`
            : `patch (keys: ${config.patch?.join(', ')})`
          : 'no change',
      ],
      ['dataverse', `${ops.length} operation(s)`],
      [
        'health check',
        `the deployment's own changes + ${String(plan.healthCheckRecords)} expected record(s)`,
      ],
    ]),
  );
  if (ops.length)
    print(
      `\n${table(ops, [
        { header: 'op', value: (o) => o.op },
        { header: 'table', value: (o) => o.table },
        { header: 'target', value: (o) => o.target },
      ])}`,
    );
}

async function getDeployment(client: ApiClient, id: string): Promise<Deployment> {
  return (await client.get<Deployment>(`deployments/${encodeURIComponent(id)}`)).body;
}

/** Polls the deployment until `until` holds, printing each new state (unless quiet). */
async function follow(
  p: Parsed,
  id: string,
  until: (d: Deployment) => boolean,
  deadline: number,
  seen: { state?: string },
): Promise<Deployment> {
  for (;;) {
    const d = await getDeployment(p.client(), id);
    if (d.state !== seen.state && !p.json) print(`state ${d.state}`);
    seen.state = d.state;
    if (until(d)) return d;
    if (Date.now() > deadline)
      throw new BlcError(1, 'WAIT_TIMEOUT', `deployment '${id}' is still ${d.state}; stopped waiting`);
    await delay(500);
  }
}

async function deploy(argv: string[]): Promise<number> {
  const p = parse(argv, {
    'dry-run': { type: 'boolean', default: false },
    approve: { type: 'boolean', default: false },
    by: { type: 'string' },
    wait: { type: 'boolean', default: false },
    timeout: { type: 'string' },
  });
  if (p.help) {
    print(HELP);
    return 0;
  }
  const [file] = positionals(p, ['<manifest>'], 'blc deploy <manifest.json> [options]');
  const timeout = str(p, 'timeout');
  if (timeout !== undefined && !(Number(timeout) > 0))
    throw BlcError.usage(`--timeout must be a number of seconds above 0, got '${timeout}'`);
  const manifest = validate(await readManifest(file));
  if (flag(p, 'dry-run')) {
    const plan = dryRunPlan(manifest);
    if (p.json) print(json({ dryRun: true, valid: true, ...plan }));
    else printDryRun(plan);
    return 0;
  }
  const answer = await p.client().post('deployments', { body: manifest });
  const id = String(answer.body.id);
  const replayed = answer.headers.get('idempotent-replayed') === 'true';
  if (!p.json) print(`${replayed ? 'Already requested' : 'Requested'} deployment ${id}`);
  const deadline = timeout === undefined ? Infinity : Date.now() + Number(timeout) * 1000;
  const seen: { state?: string } = {};
  let last: Deployment | undefined;
  if (flag(p, 'approve')) {
    last = await follow(p, id, (d) => d.state !== 'pending', deadline, seen);
    if (last.state === 'awaiting-approval') {
      const by = str(p, 'by');
      await p.client().post(`deployments/${encodeURIComponent(id)}/approve`, { body: by ? { by } : {} });
      if (!p.json) print(`approved ${id}`);
    } else if (!p.json) print(`${id} does not wait for approval (it is ${last.state})`);
  }
  if (flag(p, 'wait')) last = await follow(p, id, (d) => FINAL.includes(d.state), deadline, seen);
  if (p.json) print(json(last ?? { ...answer.body, existing: replayed }));
  if (last && FINAL.includes(last.state) && last.state !== 'succeeded')
    throw new BlcError(
      1,
      last.error?.code ?? `DEPLOYMENT_${last.state.toUpperCase().replace(/-/g, '_')}`,
      `deployment '${id}' ${last.state}${last.error ? `: ${last.error.message}` : ''}`,
    );
  return 0;
}

/** The command's entry point; its summary is in cli/blc.ts, which loads this module only to run it. */
export const deployCommand: Command['run'] = deploy;
