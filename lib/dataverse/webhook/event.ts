/**
 * A Dataverse webhook delivery as the flows see it: the RemoteExecutionContext a service endpoint
 * posts, validated (every bad field named) and reduced to a DataverseEvent, and the instance id of
 * the flow one change starts. Pure: no I/O, no clock, no logging of field values.
 */
import { webhookInstanceId } from '../../instanceIds';

/** A change as the flows see it: what happened to which record, and who did it. */
export interface DataverseEvent {
  message: string;
  table: string;
  id: string;
  requestId?: string;
  operationId: string;
  correlationId: string;
  userId: string;
  initiatingUserId: string;
  depth: number;
  /** When Dataverse recorded the operation (ISO 8601). */
  at?: string;
  /** The Target's columns (option sets as numbers, lookups as { id, table }, dates as ISO strings). */
  target: Record<string, unknown>;
  /** Columns of the registered pre-image, when there is one. */
  preImage?: Record<string, unknown>;
}

/** What an orchestration started by a webhook receives. */
export interface WebhookInput {
  event: DataverseEvent;
  timeZone: string;
}

export class WebhookPayloadError extends Error {
  readonly code = 'INVALID_WEBHOOK_PAYLOAD';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A data contract value as plain JSON: /Date(ms)/ → ISO, OptionSetValue/Money → number, EntityReference → { id, table }. */
function plainValue(value: unknown): unknown {
  if (typeof value === 'string') {
    const date = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value);
    return date ? new Date(Number(date[1])).toISOString() : value;
  }
  if (isObject(value)) {
    const type = typeof value.__type === 'string' ? value.__type : '';
    if (type.startsWith('OptionSetValue') || type.startsWith('Money')) return value.Value;
    if (type.startsWith('EntityReference')) return { id: value.Id, table: value.LogicalName };
  }
  return value;
}

function attributesOf(entity: unknown): Record<string, unknown> | undefined {
  if (!isObject(entity) || !Array.isArray(entity.Attributes)) return undefined;
  const out: Record<string, unknown> = {};
  for (const pair of entity.Attributes) {
    if (isObject(pair) && typeof pair.key === 'string') out[pair.key] = plainValue(pair.value);
  }
  return out;
}

function pairValue(list: unknown, key: string): unknown {
  if (!Array.isArray(list)) return undefined;
  const pair = list.find((p) => isObject(p) && p.key === key) as Json | undefined;
  return pair?.value;
}

/** Validates a RemoteExecutionContext and reduces it to a DataverseEvent; names every bad field. */
export function parseRemoteExecutionContext(body: unknown): DataverseEvent {
  if (!isObject(body)) throw new WebhookPayloadError('The body must be a RemoteExecutionContext object.');
  const problems: string[] = [];
  const text = (name: string, pattern?: RegExp, optional = false): string => {
    const v = body[name];
    if (v === undefined || v === null) {
      if (!optional) problems.push(`${name} is missing`);
      return '';
    }
    if (typeof v !== 'string' || v === '' || (pattern && !pattern.test(v))) {
      problems.push(`${name} must be ${pattern ? 'a GUID' : 'a non-empty string'}`);
      return '';
    }
    return v;
  };
  const message = text('MessageName');
  const table = text('PrimaryEntityName');
  const id = text('PrimaryEntityId', GUID);
  const requestId = text('RequestId', GUID, true);
  const operationId = text('OperationId', GUID);
  const correlationId = text('CorrelationId', GUID);
  const userId = text('UserId', GUID);
  const initiatingUserId = text('InitiatingUserId', GUID, true) || userId;
  const depth = body.Depth;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1)
    problems.push('Depth must be a whole number of at least 1');
  if (problems.length)
    throw new WebhookPayloadError(`Invalid RemoteExecutionContext: ${problems.join('; ')}.`);
  const created =
    typeof body.OperationCreatedOn === 'string' ? plainValue(body.OperationCreatedOn) : undefined;
  const preImages = Array.isArray(body.PreEntityImages) ? body.PreEntityImages : [];
  const firstPre = isObject(preImages[0]) ? preImages[0].value : undefined;
  return {
    message,
    table,
    id: id.toLowerCase(),
    requestId: requestId ? requestId.toLowerCase() : undefined,
    operationId: operationId.toLowerCase(),
    correlationId: correlationId.toLowerCase(),
    userId: userId.toLowerCase(),
    initiatingUserId: initiatingUserId.toLowerCase(),
    depth: depth as number,
    at: typeof created === 'string' && created.includes('T') ? created : undefined,
    target: attributesOf(pairValue(body.InputParameters, 'Target')) ?? {},
    preImage: attributesOf(firstPre),
  };
}

/**
 * The instance id of the flow an event starts. Dataverse resends the same context on a retry and on
 * a duplicate delivery, so its ids identify the change: the request id (one per originating
 * request), else the correlation and operation ids.
 */
export function instanceIdFor(event: DataverseEvent): string {
  const change = event.requestId ?? `${event.correlationId}-${event.operationId}`;
  return webhookInstanceId({ message: event.message, table: event.table, id: event.id, change });
}
