/**
 * The app's settings, read once from the environment (app settings on Azure, local.settings.json
 * `Values` locally). This is the only module that reads process.env; everything else receives
 * typed values, so a simulator and a real tenant differ by configuration only.
 */

export interface AppSettings {
  /** Dataverse environment URL, e.g. https://contoso.crm.dynamics.com (or the local simulator). */
  dataverseUrl?: string;
  /** How to get Dataverse tokens: a client secret, a fixed token (simulator only) or managed identity. */
  dataverseAuth:
    | { kind: 'clientSecret'; tenantId: string; clientId: string; clientSecret: string }
    | { kind: 'staticToken'; token: string }
    | { kind: 'managedIdentity'; clientId?: string };
  /** Blob storage connection string (AzureWebJobsStorage), or an account URL for identity-based access. */
  storage: { connectionString: string } | { accountUrl: string; clientId?: string };
  containers: { snapshots: string; config: string; rollback: string };
  rollbackRetentionDays: number;
}

export class SettingsError extends Error {
  readonly code = 'INVALID_SETTINGS';
  constructor(message: string) {
    super(`[INVALID_SETTINGS] ${message}`);
  }
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new SettingsError(`${name} must be a positive whole number, got '${value}'.`);
  return n;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): AppSettings {
  const tenantId = env.DATAVERSE_TENANT_ID;
  const clientId = env.DATAVERSE_CLIENT_ID;
  const clientSecret = env.DATAVERSE_CLIENT_SECRET;
  let dataverseAuth: AppSettings['dataverseAuth'];
  if (clientSecret) {
    if (!tenantId || !clientId)
      throw new SettingsError('DATAVERSE_CLIENT_SECRET needs DATAVERSE_TENANT_ID and DATAVERSE_CLIENT_ID.');
    dataverseAuth = { kind: 'clientSecret', tenantId, clientId, clientSecret };
  } else if (env.DATAVERSE_TOKEN) {
    dataverseAuth = { kind: 'staticToken', token: env.DATAVERSE_TOKEN };
  } else {
    dataverseAuth = { kind: 'managedIdentity', clientId: env.AZURE_CLIENT_ID };
  }

  const accountName = env.AzureWebJobsStorage__accountName;
  const storage: AppSettings['storage'] = env.AzureWebJobsStorage
    ? {
        connectionString:
          env.AzureWebJobsStorage === 'UseDevelopmentStorage=true'
            ? 'UseDevelopmentStorage=true'
            : env.AzureWebJobsStorage,
      }
    : accountName
      ? {
          accountUrl: `https://${accountName}.blob.core.windows.net`,
          clientId: env.AzureWebJobsStorage__clientId,
        }
      : { connectionString: 'UseDevelopmentStorage=true' };

  return {
    dataverseUrl: env.DATAVERSE_URL || undefined,
    dataverseAuth,
    storage,
    containers: {
      snapshots: env.LIFECOCKPIT_SNAPSHOT_CONTAINER || 'lifecockpit-snapshots',
      config: env.LIFECOCKPIT_CONFIG_CONTAINER || 'lifecockpit-config',
      rollback: env.LIFECOCKPIT_ROLLBACK_CONTAINER || 'lifecockpit-rollback',
    },
    rollbackRetentionDays: positiveInt(
      env.LIFECOCKPIT_ROLLBACK_RETENTION_DAYS,
      'LIFECOCKPIT_ROLLBACK_RETENTION_DAYS',
      30,
    ),
  };
}
