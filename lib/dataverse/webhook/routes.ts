/**
 * Which Dataverse change starts which flow: the default routes, routes configured in the versioned
 * app configuration (`webhookRoutes`, validated), the match of an event to a route, and the loop
 * guard (changes the app made itself, deep plugin chains). A route can only reach the flows listed
 * here, never deployments or rollbacks. Reads the configuration, nothing else.
 */
import type { InvocationContext } from '@azure/functions';
import { ApiError } from '../../api/errors';
import { services } from '../../config/services';
import { clientOnboardingFlow, sessionConfirmationFlow } from '../../orchestrations';
import type { TypedOrchestration } from '../../saga/orchestration';
import { WebhookPayloadError, type DataverseEvent, type WebhookInput } from './event';

export interface WebhookRoute {
  message: string;
  table: string;
  orchestration: string;
  /** For Update: start only when the change touches one of these columns. */
  whenChanged?: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Which change starts which flow, unless the app configuration's `webhookRoutes` says otherwise. */
export const WEBHOOK_ROUTES: WebhookRoute[] = [
  { message: 'Create', table: 'contact', orchestration: clientOnboardingFlow.name },
  { message: 'Create', table: 'lc_session', orchestration: sessionConfirmationFlow.name },
  {
    message: 'Update',
    table: 'lc_session',
    orchestration: sessionConfirmationFlow.name,
    whenChanged: ['lc_starttime', 'lc_endtime', 'lc_location'],
  },
];

/** Deeper than this, a change was made by a chain of plugins or flows reacting to each other. */
export const MAX_DEPTH = 2;

/**
 * Whether an update really changed a column: it must be in the Target and, when a pre-image came
 * with the event, differ from it (integrations often send every column on each save).
 */
function changed(event: DataverseEvent, column: string): boolean {
  if (!(column in event.target)) return false;
  if (!event.preImage || !(column in event.preImage)) return true;
  return JSON.stringify(event.preImage[column]) !== JSON.stringify(event.target[column]);
}

export function routeFor(event: DataverseEvent, routes = WEBHOOK_ROUTES): WebhookRoute | undefined {
  return routes.find(
    (r) =>
      r.message.toLowerCase() === event.message.toLowerCase() &&
      r.table === event.table &&
      (!r.whenChanged || r.whenChanged.some((column) => changed(event, column))),
  );
}

/** Why an event is acknowledged without starting anything; undefined when it should run. */
export function ignoreReason(event: DataverseEvent, appUserId: string | undefined): string | undefined {
  const own = appUserId?.toLowerCase();
  if (own && (event.userId === own || event.initiatingUserId === own))
    return "made by the app's own identity";
  if (event.depth > MAX_DEPTH) return `depth ${event.depth} is deeper than ${MAX_DEPTH} (a plugin chain)`;
  return undefined;
}

/** The only orchestrations a webhook may start: a route can never reach deployments or rollbacks. */
const WEBHOOK_FLOWS: readonly TypedOrchestration<WebhookInput, unknown>[] = [
  clientOnboardingFlow,
  sessionConfirmationFlow,
];
const FLOW_NAMES = WEBHOOK_FLOWS.map((f) => f.name);

/** The flow a route starts (routes are validated, so there always is one). */
export function flowOf(route: WebhookRoute): TypedOrchestration<WebhookInput, unknown> {
  const flow = WEBHOOK_FLOWS.find((f) => f.name === route.orchestration);
  if (!flow) throw new WebhookPayloadError(`No webhook flow named '${route.orchestration}'.`);
  return flow;
}

/** Validates configured routes; names every bad entry. */
export function parseRoutes(value: unknown): WebhookRoute[] {
  if (!Array.isArray(value)) throw new WebhookPayloadError('webhookRoutes must be an array of routes.');
  const problems: string[] = [];
  const routes = value.map((r: unknown, i): WebhookRoute => {
    const ok =
      isObject(r) &&
      typeof r.message === 'string' &&
      typeof r.table === 'string' &&
      typeof r.orchestration === 'string' &&
      FLOW_NAMES.includes(r.orchestration) &&
      (r.whenChanged === undefined ||
        (Array.isArray(r.whenChanged) && r.whenChanged.every((c) => typeof c === 'string')));
    if (!ok) {
      problems.push(
        `webhookRoutes[${i}] needs message, table and orchestration (one of ${FLOW_NAMES.join(', ')}) and optional whenChanged (strings)`,
      );
      return { message: '', table: '', orchestration: '' };
    }
    return r as unknown as WebhookRoute;
  });
  if (problems.length) throw new WebhookPayloadError(problems.join('; '));
  return routes;
}

/**
 * The routes in force: the configured ones, else the defaults. When the configuration cannot be read
 * the delivery fails with 503, so Dataverse retries it: falling back to the defaults could start
 * flows an operator switched off.
 */
export async function currentRoutes(context: InvocationContext): Promise<WebhookRoute[]> {
  try {
    const config = await services().config.current();
    const configured = config?.value.webhookRoutes;
    return configured === undefined ? WEBHOOK_ROUTES : parseRoutes(configured);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    context.warn(`Webhook routes unusable: ${message}`);
    throw new ApiError(503, 'WEBHOOK_ROUTES_UNAVAILABLE', `The webhook routes could not be read: ${message}`);
  }
}
