/**
 * Test plumbing for the integrations: register Dataverse webhooks that point at the app (through
 * the Web API, as a deployment script does), read the Graph outbox, and post a RemoteExecutionContext
 * by hand for what the simulator cannot produce (another user, a deep plugin chain).
 */
import type { SentMail } from '../../sim/graph';
import { webhook, type Status } from '../support/durable';
import { WEBHOOK_HEADER, WEBHOOK_SECRET, type AppUnderTest } from '../support/appHost';

export interface WebhookRegistration {
  message: 'Create' | 'Update' | 'Delete';
  entity: string;
  filteringattributes?: string;
  /** The header value sent with each call (default: the configured secret). */
  secret?: string;
  /** Where Dataverse posts (default: the app's webhook endpoint). */
  url?: string;
  /** The service endpoint's auth (default: HttpHeader with the configured header and `secret`). */
  auth?: { authtype: 4 | 5 | 6; authvalue: string };
}

export async function registerWebhook(app: AppUnderTest, r: WebhookRegistration): Promise<string> {
  const dv = app.dataverse;
  let messageId = '';
  for await (const m of dv.query('sdkmessages', {
    select: ['sdkmessageid'],
    filter: `name eq '${r.message}'`,
  }))
    messageId = String(m.sdkmessageid);
  let filterId = '';
  for await (const f of dv.query('sdkmessagefilters', {
    select: ['sdkmessagefilterid'],
    filter: `primaryobjecttypecode eq '${r.entity}' and _sdkmessageid_value eq ${messageId}`,
  }))
    filterId = String(f.sdkmessagefilterid);
  const endpoint = await dv.create('serviceendpoints', {
    name: `Life Cockpit ${r.message} ${r.entity}`,
    url: r.url ?? `${app.host.url}/api/webhooks/dataverse`,
    contract: 8,
    ...(r.auth ?? {
      authtype: 5,
      authvalue: `<settings><setting name="${WEBHOOK_HEADER}" value="${r.secret ?? WEBHOOK_SECRET}" /></settings>`,
    }),
  });
  const step = await dv.create('sdkmessageprocessingsteps', {
    name: `Life Cockpit: ${r.message} of ${r.entity}`,
    mode: 1,
    stage: 40,
    rank: 1,
    supporteddeployment: 0,
    asyncautodelete: false,
    filteringattributes: r.filteringattributes ?? null,
    'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
    'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filterId})`,
    'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${String(endpoint.id)})`,
  });
  return String(step.id);
}

export async function unregisterWebhook(app: AppUnderTest, stepId: string): Promise<void> {
  await app.dataverse.delete('sdkmessageprocessingsteps', stepId);
}

/** Webhook system jobs (asyncoperations) of a step: statuscode 30 succeeded, 31 failed. */
export async function systemJobs(app: AppUnderTest, stepId: string): Promise<Record<string, unknown>[]> {
  const jobs = [];
  for await (const j of app.dataverse.query('asyncoperations', {
    filter: `_owningextensionid_value eq ${stepId}`,
  }))
    jobs.push(j);
  return jobs;
}

export function outbox(app: AppUnderTest): SentMail[] {
  if (!app.graph) throw new Error('start the app with graph: true');
  return app.graph.sim.outbox();
}

export function mailTo(app: AppUnderTest, address: string): SentMail[] {
  return outbox(app).filter((m) => m.message.toRecipients.some((r) => r.emailAddress.address === address));
}

/** Polls until `probe` satisfies `done`, or fails naming what it waited for. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not reached in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

/** Posts to the app's webhook endpoint as Dataverse would. */
export function postWebhook(
  app: AppUnderTest,
  body: unknown,
  headers: Record<string, string> = { [WEBHOOK_HEADER]: WEBHOOK_SECRET },
): Promise<Response> {
  return fetch(`${app.host.url}/api/webhooks/dataverse`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Instances whose id starts with `prefix`. */
export async function instances(app: AppUnderTest, prefix: string): Promise<Status[]> {
  const res = await fetch(webhook(app.host, `instances?instanceIdPrefix=${encodeURIComponent(prefix)}`));
  if (res.status !== 200) throw new Error(`listing instances answered ${res.status}`);
  return (await res.json()) as Status[];
}
