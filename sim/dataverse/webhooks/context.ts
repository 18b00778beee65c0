/**
 * Builds the RemoteExecutionContext JSON that Dataverse POSTs to a webhook: message, primary entity
 * name and id, correlation/request/operation ids, Target in InputParameters, pre and post images,
 * depth, user, business unit and organization ids, and OperationCreatedOn. Values use the data
 * contract serialization Dataverse uses (`/Date(ms)/`, EntityReference, OptionSetValue, Money with
 * `__type`). It reads no storage: everything it needs is handed in.
 */
import type { ChangeEvent } from '../records';
import type { AttributeDef, TableDef } from '../schema/types';
import { lookupTypeColumn, type StoredRow } from '../store';

const CONTRACTS = 'http://schemas.microsoft.com/xrm/2011/Contracts';

export interface KeyValuePair {
  key: string;
  value: unknown;
}

export interface SerializedEntity {
  __type?: string;
  Attributes: KeyValuePair[];
  EntityState: null;
  FormattedValues: KeyValuePair[];
  Id: string;
  KeyAttributes: KeyValuePair[];
  LogicalName: string;
  RelatedEntities: KeyValuePair[];
  RowVersion: string | null;
}

export interface RemoteExecutionContext {
  BusinessUnitId: string;
  CorrelationId: string;
  Depth: number;
  InitiatingUserAzureActiveDirectoryObjectId: string;
  InitiatingUserId: string;
  InputParameters: KeyValuePair[];
  IsExecutingOffline: boolean;
  IsInTransaction: boolean;
  IsOfflinePlayback: boolean;
  IsolationMode: number;
  MessageName: string;
  Mode: number;
  OperationCreatedOn: string;
  OperationId: string;
  OrganizationId: string;
  OrganizationName: string;
  OutputParameters: KeyValuePair[];
  OwningExtension: {
    Id: string;
    KeyAttributes: KeyValuePair[];
    LogicalName: string;
    Name: string | null;
    RowVersion: null;
  };
  ParentContext: null;
  PostEntityImages: KeyValuePair[];
  PreEntityImages: KeyValuePair[];
  PrimaryEntityId: string;
  PrimaryEntityName: string;
  RequestId: string;
  SecondaryEntityName: string;
  SharedVariables: KeyValuePair[];
  Stage: number;
  UserAzureActiveDirectoryObjectId: string;
  UserId: string;
}

/** An image registered on the step: its alias, when it applies, and which columns it carries (all when empty). */
export interface ImageSpec {
  alias: string;
  pre: boolean;
  post: boolean;
  attributes: string[];
}

export interface ContextInput {
  event: ChangeEvent;
  step: { id: string; name: string | null; mode: number; stage: number };
  operationId: string;
  organization: { id: string; name: string };
  images: ImageSpec[];
  userAadObjectId: string;
}

function entityReference(logicalName: string, id: string): Record<string, unknown> {
  return {
    __type: `EntityReference:${CONTRACTS}`,
    Id: id,
    KeyAttributes: [],
    LogicalName: logicalName,
    Name: null,
    RowVersion: null,
  };
}

function contractValue(attribute: AttributeDef, row: StoredRow): unknown {
  const value = row[attribute.logicalName];
  if (value === null || value === undefined) return null;
  switch (attribute.type) {
    case 'DateTime':
      return `/Date(${Date.parse(String(value))})/`;
    case 'DateOnly':
      return `/Date(${Date.parse(`${String(value)}T00:00:00Z`)})/`;
    case 'Boolean':
      return value === 1;
    case 'Lookup':
      return entityReference(
        String(row[lookupTypeColumn(attribute.logicalName)] ?? attribute.targets?.[0]?.entity),
        String(value),
      );
    case 'Picklist':
    case 'State':
    case 'Status':
      return { __type: `OptionSetValue:${CONTRACTS}`, Value: Number(value) };
    case 'Money':
      return { __type: `Money:${CONTRACTS}`, Value: Number(value) };
    default:
      return value;
  }
}

function serializeEntity(
  table: TableDef,
  id: string,
  row: StoredRow,
  columns: string[] | undefined,
  withType: boolean,
): SerializedEntity {
  const attributes: KeyValuePair[] = [];
  const formatted: KeyValuePair[] = [];
  for (const attribute of table.attributes) {
    if (!attribute.readable || !(attribute.logicalName in row)) continue;
    if (columns && columns.length > 0 && !columns.includes(attribute.logicalName)) continue;
    attributes.push({ key: attribute.logicalName, value: contractValue(attribute, row) });
    const option = attribute.options?.find((o) => o.value === row[attribute.logicalName]);
    if (option) formatted.push({ key: attribute.logicalName, value: option.label });
  }
  return {
    ...(withType ? { __type: `Entity:${CONTRACTS}` } : {}),
    Attributes: attributes,
    EntityState: null,
    FormattedValues: formatted,
    Id: id,
    KeyAttributes: [],
    LogicalName: table.logicalName,
    RelatedEntities: [],
    RowVersion:
      row.versionnumber === undefined || row.versionnumber === null ? null : String(row.versionnumber),
  };
}

export function buildContext(input: ContextInput): RemoteExecutionContext {
  const { event, step, operationId, organization, images } = input;
  const { table, id } = event;
  const target =
    event.message === 'Delete'
      ? entityReference(table.logicalName, id)
      : serializeEntity(table, id, event.target, undefined, true);
  const pre: KeyValuePair[] = [];
  const post: KeyValuePair[] = [];
  for (const image of images) {
    if (image.pre && event.pre)
      pre.push({ key: image.alias, value: serializeEntity(table, id, event.pre, image.attributes, false) });
    if (image.post && event.post)
      post.push({ key: image.alias, value: serializeEntity(table, id, event.post, image.attributes, false) });
  }
  if (step.mode === 1 && event.post) {
    // The asynchronous service always adds the primary name of the record as a post image.
    post.push({
      key: 'AsynchronousStepPrimaryName',
      value: serializeEntity(
        table,
        id,
        event.post,
        [table.primaryNameAttribute, table.primaryIdAttribute],
        false,
      ),
    });
  }
  return {
    BusinessUnitId: event.context.caller.businessUnitId,
    CorrelationId: event.context.correlationId,
    Depth: 1,
    InitiatingUserAzureActiveDirectoryObjectId: input.userAadObjectId,
    InitiatingUserId: event.context.caller.userId,
    InputParameters: [{ key: 'Target', value: target }],
    IsExecutingOffline: false,
    IsInTransaction: false,
    IsOfflinePlayback: false,
    IsolationMode: 1,
    MessageName: event.message,
    Mode: step.mode,
    OperationCreatedOn: `/Date(${event.at}+0000)/`,
    OperationId: operationId,
    OrganizationId: organization.id,
    OrganizationName: organization.name,
    OutputParameters: event.message === 'Create' ? [{ key: 'id', value: id }] : [],
    OwningExtension: {
      Id: step.id,
      KeyAttributes: [],
      LogicalName: 'sdkmessageprocessingstep',
      Name: step.name,
      RowVersion: null,
    },
    ParentContext: null,
    PostEntityImages: post,
    PreEntityImages: pre,
    PrimaryEntityId: id,
    PrimaryEntityName: table.logicalName,
    RequestId: event.context.requestId,
    SecondaryEntityName: 'none',
    SharedVariables: [],
    Stage: step.stage,
    UserAzureActiveDirectoryObjectId: input.userAadObjectId,
    UserId: event.context.caller.userId,
  };
}

/** Above this size Dataverse drops the bulky parts and flags the request with x-ms-dynamics-msg-size-exceeded. */
export const MAX_WEBHOOK_PAYLOAD_BYTES = 256 * 1024;

/** The context without the parts Dataverse drops from an oversized payload. */
export type ShrunkContext = Omit<
  RemoteExecutionContext,
  'ParentContext' | 'InputParameters' | 'PreEntityImages' | 'PostEntityImages'
>;

export function shrinkContext(context: RemoteExecutionContext): ShrunkContext {
  const shrunk: Partial<RemoteExecutionContext> = { ...context };
  delete shrunk.ParentContext;
  delete shrunk.InputParameters;
  delete shrunk.PreEntityImages;
  delete shrunk.PostEntityImages;
  return shrunk as ShrunkContext;
}
