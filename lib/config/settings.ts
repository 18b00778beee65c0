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
  /** Microsoft Graph: base URL (https://graph.microsoft.com, or the simulator) and how to get tokens. */
  graphUrl: string;
  graphAuth:
    | { kind: 'clientSecret'; tenantId: string; clientId: string; clientSecret: string }
    | { kind: 'staticToken'; token: string }
    | { kind: 'managedIdentity'; clientId?: string };
  /** Mailbox (UPN or id) the app sends mail as, and the practice owner who gets notes and summaries. */
  mailSender?: string;
  /**
   * How long an attempt holds a mail key while it sends (MAIL_LEASE_SECONDS, default 60): another
   * attempt takes the key over only after that, so two never send at once.
   */
  mailLeaseSeconds: number;
  ownerEmail?: string;
  /** The Dataverse systemuserid of the app's own application user (the webhook loop guard). */
  appUserId?: string;
  /** What Dataverse webhooks must present: the auth type and value registered on the service endpoint. */
  webhookAuth?: { kind: 'HttpHeader' | 'WebhookKey' | 'HttpQueryString'; name: string; value: string };
  /** Daily reminder schedule (six-field NCRONTAB, local to WEBSITE_TIME_ZONE). */
  remindersSchedule: string;
  /** When expired rollback points are deleted (six-field NCRONTAB, ROLLBACK_EXPIRY_SCHEDULE). */
  rollbackExpirySchedule: string;
  timeZone: string;
  /** Largest request body the public API accepts. */
  maxBodyBytes: number;
  /**
   * Transient outages (TRANSIENT_RETRY_MINUTES, default 15): how long a saga step keeps retrying a
   * service that is down or throttling before the saga compensates; DATAVERSE_RETRIES (default 4)
   * and GRAPH_RETRIES (default 3): attempts after the first inside one call, before the step waits.
   */
  transientRetryMinutes: number;
  dataverseRetries: number;
  graphRetries: number;
  /**
   * The app user's Dataverse request budget (DATAVERSE_REQUESTS_PER_5_MIN, default 5000; 0: unpaced),
   * below service protection's 6,000 per 5 minutes per user. Per process: with several instances
   * of the app, give each its share.
   */
  dataverseRequestsPer5Min: number;
  /** How long Dataverse table metadata (EntityDefinitions) is cached (DATAVERSE_METADATA_CACHE_SECONDS, default 300; 0: not cached). */
  metadataCacheSeconds: number;
  /** REDIS_URL: when set, caches (table metadata) live in this Redis, shared by every instance; else in process. */
  redisUrl?: string;
  /** How long GET /api/health reuses its dependency checks (HEALTH_CACHE_SECONDS, default 5; 0: only concurrent calls share). */
  healthCacheSeconds: number;
  /**
   * Application Insights, when APPLICATIONINSIGHTS_CONNECTION_STRING is set. `requests: 'host'` when the
   * Functions host records each invocation itself (on Azure, where WEBSITE_SITE_NAME is set); 'app'
   * when only the app can (the local host). LIFECOCKPIT_TELEMETRY_REQUESTS overrides the guess.
   */
  telemetry?: { connectionString: string; requests: 'app' | 'host' };
}

const DEFAULT_TRANSIENT_RETRY_MINUTES = 15;

type TimerSchedule = 'remindersSchedule' | 'rollbackExpirySchedule';

const DEFAULT_SCHEDULES: Record<TimerSchedule, string> = {
  remindersSchedule: '0 0 9 * * *',
  rollbackExpirySchedule: '0 30 2 * * *',
};

/**
 * A timer's schedule, for its registration when the app loads (a timer's schedule is fixed then):
 * settings the app cannot run with must not stop it loading, so the default stands in for them.
 */
export function timerSchedule(which: TimerSchedule, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return readSettings(env)[which];
  } catch {
    return DEFAULT_SCHEDULES[which];
  }
}

/**
 * How long saga steps wait out a transient outage, for an activity reporting one: a failing
 * activity must still report the outage when some other setting is unusable, so this reads only
 * its own setting, with the default standing in for an unusable value (readSettings refuses it).
 */
export function transientRetryMinutes(env: NodeJS.ProcessEnv = process.env): number {
  try {
    return positiveInt(
      env.TRANSIENT_RETRY_MINUTES,
      'TRANSIENT_RETRY_MINUTES',
      DEFAULT_TRANSIENT_RETRY_MINUTES,
    );
  } catch {
    return DEFAULT_TRANSIENT_RETRY_MINUTES;
  }
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

function wholeNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new SettingsError(`${name} must be a whole number (0 or more), got '${value}'.`);
  return n;
}

/**
 * On Azure, a Key Vault reference the platform cannot resolve (missing secret, no access) reaches the
 * app as its own text. Used as a secret, that text is public (it is in the templates), so refuse it.
 */
function refuseUnresolvedKeyVaultReferences(env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (value?.trim().startsWith('@Microsoft.KeyVault(')) {
      throw new SettingsError(
        `${name} is a Key Vault reference the platform could not resolve; check the secret exists and the app's identity may read it (Key Vault Secrets User).`,
      );
    }
  }
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): AppSettings {
  refuseUnresolvedKeyVaultReferences(env);
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

  let graphAuth: AppSettings['graphAuth'];
  if (env.GRAPH_CLIENT_SECRET) {
    const gTenant = env.GRAPH_TENANT_ID ?? tenantId;
    const gClient = env.GRAPH_CLIENT_ID ?? clientId;
    if (!gTenant || !gClient)
      throw new SettingsError(
        'GRAPH_CLIENT_SECRET needs GRAPH_TENANT_ID and GRAPH_CLIENT_ID (or the DATAVERSE_ ones).',
      );
    graphAuth = {
      kind: 'clientSecret',
      tenantId: gTenant,
      clientId: gClient,
      clientSecret: env.GRAPH_CLIENT_SECRET,
    };
  } else if (clientSecret && tenantId && clientId) {
    graphAuth = { kind: 'clientSecret', tenantId, clientId, clientSecret };
  } else if (env.GRAPH_TOKEN) {
    graphAuth = { kind: 'staticToken', token: env.GRAPH_TOKEN };
  } else {
    graphAuth = { kind: 'managedIdentity', clientId: env.AZURE_CLIENT_ID };
  }

  let webhookAuth: AppSettings['webhookAuth'];
  if (env.DATAVERSE_WEBHOOK_SECRET) {
    const kind = (env.DATAVERSE_WEBHOOK_AUTH_TYPE || 'WebhookKey') as NonNullable<
      AppSettings['webhookAuth']
    >['kind'];
    if (!['HttpHeader', 'WebhookKey', 'HttpQueryString'].includes(kind)) {
      throw new SettingsError(
        `DATAVERSE_WEBHOOK_AUTH_TYPE must be HttpHeader, WebhookKey or HttpQueryString, got '${kind}'.`,
      );
    }
    const name = env.DATAVERSE_WEBHOOK_AUTH_NAME || (kind === 'WebhookKey' ? 'code' : 'x-lifecockpit-secret');
    webhookAuth = { kind, name, value: env.DATAVERSE_WEBHOOK_SECRET };
  }

  let telemetry: AppSettings['telemetry'];
  const aiConnection = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (aiConnection) {
    const requests = env.LIFECOCKPIT_TELEMETRY_REQUESTS || (env.WEBSITE_SITE_NAME ? 'host' : 'app');
    if (requests !== 'app' && requests !== 'host')
      throw new SettingsError(`LIFECOCKPIT_TELEMETRY_REQUESTS must be app or host, got '${requests}'.`);
    telemetry = { connectionString: aiConnection, requests };
  }

  return {
    telemetry,
    graphUrl: (env.GRAPH_URL || 'https://graph.microsoft.com').replace(/\/+$/, ''),
    graphAuth,
    mailSender: env.MAIL_SENDER || undefined,
    mailLeaseSeconds: positiveInt(env.MAIL_LEASE_SECONDS, 'MAIL_LEASE_SECONDS', 60),
    ownerEmail: env.PRACTICE_OWNER_EMAIL || undefined,
    appUserId: env.DATAVERSE_APP_USER_ID || undefined,
    webhookAuth,
    remindersSchedule: env.REMINDERS_SCHEDULE || DEFAULT_SCHEDULES.remindersSchedule,
    rollbackExpirySchedule: env.ROLLBACK_EXPIRY_SCHEDULE || DEFAULT_SCHEDULES.rollbackExpirySchedule,
    timeZone: env.WEBSITE_TIME_ZONE || env.TZ || 'UTC',
    maxBodyBytes: positiveInt(env.API_MAX_BODY_BYTES, 'API_MAX_BODY_BYTES', 1024 * 1024),
    healthCacheSeconds: wholeNumber(env.HEALTH_CACHE_SECONDS, 'HEALTH_CACHE_SECONDS', 5),
    transientRetryMinutes: positiveInt(
      env.TRANSIENT_RETRY_MINUTES,
      'TRANSIENT_RETRY_MINUTES',
      DEFAULT_TRANSIENT_RETRY_MINUTES,
    ),
    dataverseRetries: wholeNumber(env.DATAVERSE_RETRIES, 'DATAVERSE_RETRIES', 4),
    dataverseRequestsPer5Min: wholeNumber(
      env.DATAVERSE_REQUESTS_PER_5_MIN,
      'DATAVERSE_REQUESTS_PER_5_MIN',
      5000,
    ),
    graphRetries: Math.min(wholeNumber(env.GRAPH_RETRIES, 'GRAPH_RETRIES', 3), 10),
    metadataCacheSeconds: wholeNumber(
      env.DATAVERSE_METADATA_CACHE_SECONDS,
      'DATAVERSE_METADATA_CACHE_SECONDS',
      300,
    ),
    redisUrl: env.REDIS_URL?.trim() || undefined,
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
