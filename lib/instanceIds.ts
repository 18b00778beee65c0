/**
 * The orchestration instance ids the app chooses for itself, each beside the pattern that reserves
 * it. These ids make the app's own runs idempotent (one reminders run a day, one deployment per
 * version, one flow per Dataverse change), so nobody else may hold one: a public start under
 * `dailyReminders-<today>` would make the reminders timer think the day was done. The public API
 * refuses a reserved id (400 RESERVED_INSTANCE_ID), and the app's own starters check that an
 * instance holding their id runs their orchestration before they take it as already done. A new
 * generator belongs here, with its prefix in RESERVED; nothing here reads or starts anything.
 */

interface Reservation {
  /** Compared case-insensitively: whether a backend tells ids apart by case is not ours to rely on. */
  prefix: string;
  /** Whose ids these are, for the refusal message. */
  owner: string;
}

const REMINDERS = 'dailyReminders-';
const DEPLOYMENT = 'deploy-';
const WEBHOOK = 'webhook-';
const IDEMPOTENCY = 'idem-';
/** The durable engine names entities `@<entity>@<key>` and refuses such an id for an orchestration. */
const ENTITY = '@';

const RESERVED: readonly Reservation[] = [
  { prefix: REMINDERS, owner: 'the daily reminders timer' },
  { prefix: DEPLOYMENT, owner: 'deployments (their sagas, steps and rollbacks)' },
  { prefix: WEBHOOK, owner: 'the Dataverse webhook' },
  { prefix: IDEMPOTENCY, owner: 'requests with an Idempotency-Key' },
  { prefix: ENTITY, owner: 'durable entities' },
];

/** Who generates ids like `id`, or undefined when a client may choose it. */
export function reservedInstanceIdOwner(id: string): string | undefined {
  const lower = id.toLowerCase();
  return RESERVED.find((r) => lower.startsWith(r.prefix.toLowerCase()))?.owner;
}

/**
 * The reminders of one day. `attempt` 0 is the day's id; later attempts are only for a day whose id
 * another orchestration holds, so the day is still reminded, under an id every host derives alike.
 */
export function remindersInstanceId(day: string, attempt = 0): string {
  return attempt === 0 ? `${REMINDERS}${day}` : `${REMINDERS}${day}-${attempt + 1}`;
}

/** A deployment's saga (and record id); its steps and rollbacks derive their ids from this one. */
export function deploymentInstanceId(version: string): string {
  return `${DEPLOYMENT}${version}`;
}

/** The n-th request (from 1) to roll back deployment `deploymentId`. */
export function deploymentRollbackInstanceId(deploymentId: string, attempt: number): string {
  return `${deploymentId}:rollback-${attempt}`;
}

/** The flow one Dataverse change starts: every delivery of that change names the same instance. */
export function webhookInstanceId(change: {
  message: string;
  table: string;
  id: string;
  change: string;
}): string {
  return `${WEBHOOK}${change.message}-${change.table}-${change.id}-${change.change}`.toLowerCase();
}

/** The instance a request with an Idempotency-Key names: `keyHash` is a hash of that key. */
export function idempotencyInstanceId(keyHash: string): string {
  return `${IDEMPOTENCY}${keyHash}`;
}
