/**
 * Activities of the deployment saga: record the deployment (or adopt the record the HTTP API
 * reserved), move it between states, and check the environment's health after a deployment against
 * real post-conditions: Dataverse answers, storage answers, the deployed configuration version is
 * the current one, and every record is in the state the deployment (and its manifest) asked for.
 * None of them changes configuration or Dataverse data.
 */
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import { diffFields, type RecordKey } from '../lib/dataverse';
import {
  DeploymentError,
  deploymentStore,
  newDeploymentRecord,
  type DeploymentManifest,
  type DeploymentRecord,
  type DeploymentState,
  type ExpectedRecord,
  type HealthCheckResult,
} from '../lib/deployments';

export const beginDeployment = defineActivity<
  { id: string; manifest: DeploymentManifest; at: string },
  { configVersion: number | null }
>('deployment_begin', async ({ id, manifest, at }) => {
  const store = deploymentStore();
  const existing = await store.get(id);
  // The HTTP API reserves the record before starting the saga; a re-run finds it still pending.
  const adoptable =
    existing?.state === 'pending' && JSON.stringify(existing.manifest) === JSON.stringify(manifest);
  if (existing && !adoptable) {
    throw new DeploymentError(
      'DEPLOYMENT_EXISTS',
      `Deployment '${id}' already exists (${existing.state}); a version is deployed once, so give the manifest a new version.`,
    );
  }
  if (!existing) await store.create(newDeploymentRecord(id, manifest, at));
  const current = await services().config.current();
  return { configVersion: current?.version ?? null };
});

export interface DeploymentUpdate {
  id: string;
  at: string;
  state?: DeploymentState;
  /** Only from these states (a compare-and-swap): otherwise DEPLOYMENT_STATE_CONFLICT. */
  from?: DeploymentState[];
  note?: string;
  /** Top-level fields to set on the record. */
  set?: Partial<Omit<DeploymentRecord, 'id' | 'history' | 'state'>>;
}

export const updateDeployment = defineActivity<DeploymentUpdate, DeploymentRecord>(
  'deployment_update',
  async ({ id, at, state, from, note, set }) =>
    deploymentStore().update(id, (r) => {
      // Run again after a crash, the same transition is found done and not recorded twice.
      const done = state !== undefined && r.history.some((h) => h.state === state && h.at === at);
      if (from && !done && !from.includes(r.state)) {
        throw new DeploymentError(
          'DEPLOYMENT_STATE_CONFLICT',
          `Deployment '${id}' is ${r.state}; this needs it to be ${from.join(' or ')}.`,
          { state: r.state },
        );
      }
      const next: DeploymentRecord = { ...r, ...set, updatedAt: at };
      if (state && !done) {
        next.state = state;
        next.history = [...r.history, { state, at, ...(note ? { note } : {}) }];
      }
      return next;
    }),
);

function describeRecord(e: ExpectedRecord): string {
  return `${e.table}(${e.id ?? JSON.stringify(e.key)})`;
}

function stripAnnotations(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!k.includes('@')) out[k] = v;
  return out;
}

export interface HealthCheckInput {
  id: string;
  at: string;
  /** The configuration version the deployment activated, if it changed the configuration. */
  configVersion?: number;
  /** The records as the deployment left them, then the manifest's own expectations. */
  records: (ExpectedRecord & { label?: string })[];
}

export const checkDeploymentHealth = defineActivity<
  HealthCheckInput,
  { ok: true; checks: HealthCheckResult[] }
>('deployment_healthCheck', async ({ id, at, configVersion, records }) => {
  const app = services();
  const checks: HealthCheckResult[] = [];
  const check = async (name: string, run: () => Promise<string | undefined>): Promise<void> => {
    try {
      const failure = await run();
      checks.push(failure ? { name, ok: false, detail: failure } : { name, ok: true });
    } catch (err) {
      checks.push({ name, ok: false, detail: (err as Error).message });
    }
  };
  const client = app.dataverse(`${id}:health`);
  await check('Dataverse answers WhoAmI', async () => {
    await client.whoAmI();
    return undefined;
  });
  await check('Blob storage answers', async () => {
    await deploymentStore().require(id);
    return undefined;
  });
  if (configVersion !== undefined) {
    await check(`configuration version ${configVersion} is current`, async () => {
      const current = await app.config.current();
      return current?.version === configVersion
        ? undefined
        : `the current version is ${current?.version ?? 'none'}`;
    });
  }
  for (const expected of records) {
    const target = (expected.id ?? expected.key) as RecordKey;
    const name = expected.label ?? describeRecord(expected);
    await check(name, async () => {
      const current = await client.tryRetrieve(expected.table, target);
      if (expected.exists === false) return current ? 'the record still exists' : undefined;
      if (!current) return 'the record does not exist';
      const differences = diffFields(stripAnnotations(current), expected.fields ?? {});
      const listed = Object.entries(differences).map(
        ([f, c]) => `${f} is ${JSON.stringify(c.before)}, expected ${JSON.stringify(c.after)}`,
      );
      return listed.length ? listed.join(', ') : undefined;
    });
  }
  const ok = checks.every((c) => c.ok);
  await deploymentStore()
    .update(id, (r) => ({ ...r, health: { ok, checkedAt: at, checks } }))
    .catch(() => undefined); // The report is a courtesy; the verdict below is what counts.
  if (!ok) {
    const failed = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`);
    throw new DeploymentError('DEPLOYMENT_UNHEALTHY', `The health check failed: ${failed.join('; ')}.`);
  }
  return { ok: true, checks };
});
