/**
 * Built-in platform tables: users, business units and organization (for WhoAmI), and the records
 * that register webhooks (serviceendpoint, sdkmessage, sdkmessagefilter, sdkmessageprocessingstep,
 * sdkmessageprocessingstepimage) plus the system jobs they leave behind (asyncoperation). Column
 * names and choice values are Dataverse's, so registration code written for a real environment runs
 * here unchanged. Only definitions live here.
 */
import type { OptionDef } from './types';
import type { TableInput } from './define';

const options = (pairs: [number, string][]): OptionDef[] => pairs.map(([value, label]) => ({ value, label }));

/** serviceendpoint.contract: 8 is Webhook. */
export const CONTRACT_WEBHOOK = 8;

/** serviceendpoint.authtype values for webhooks. */
export const AuthType = { webhookKey: 4, httpHeader: 5, httpQueryString: 6 } as const;

/** sdkmessageprocessingstep.mode. */
export const StepMode = { synchronous: 0, asynchronous: 1 } as const;

/** sdkmessageprocessingstepimage.imagetype. */
export const ImageType = { pre: 0, post: 1, both: 2 } as const;

/** asyncoperation.statecode and statuscode. */
export const AsyncState = { ready: 0, suspended: 1, locked: 2, completed: 3 } as const;
export const AsyncStatus = {
  waitingForResources: 0,
  waiting: 10,
  inProgress: 20,
  succeeded: 30,
  failed: 31,
  canceled: 32,
} as const;

export const systemUserTable: TableInput = {
  logicalName: 'systemuser',
  entitySetName: 'systemusers',
  primaryNameAttribute: 'fullname',
  displayName: 'User',
  objectTypeCode: 8,
  isCustomEntity: false,
  attributes: [
    { logicalName: 'firstname', type: 'String', displayName: 'First Name', maxLength: 64 },
    { logicalName: 'lastname', type: 'String', displayName: 'Last Name', maxLength: 64 },
    {
      logicalName: 'fullname',
      type: 'String',
      displayName: 'Full Name',
      maxLength: 200,
      computed: { concat: ['firstname', 'lastname'], separator: ' ' },
    },
    { logicalName: 'internalemailaddress', type: 'String', displayName: 'Primary Email', maxLength: 100 },
    { logicalName: 'domainname', type: 'String', displayName: 'User Name', maxLength: 1024 },
    { logicalName: 'title', type: 'String', displayName: 'Title', maxLength: 128 },
    {
      logicalName: 'azureactivedirectoryobjectid',
      type: 'Uniqueidentifier',
      displayName: 'Azure AD Object ID',
    },
    { logicalName: 'isdisabled', type: 'Boolean', displayName: 'Status' },
    { logicalName: 'businessunitid', type: 'Lookup', displayName: 'Business Unit', target: 'businessunit' },
  ],
};

export const businessUnitTable: TableInput = {
  logicalName: 'businessunit',
  entitySetName: 'businessunits',
  primaryNameAttribute: 'name',
  displayName: 'Business Unit',
  objectTypeCode: 10,
  isCustomEntity: false,
  attributes: [{ logicalName: 'name', type: 'String', displayName: 'Name', maxLength: 160 }],
};

export const organizationTable: TableInput = {
  logicalName: 'organization',
  entitySetName: 'organizations',
  primaryNameAttribute: 'name',
  displayName: 'Organization',
  objectTypeCode: 1019,
  isCustomEntity: false,
  attributes: [{ logicalName: 'name', type: 'String', displayName: 'Name', maxLength: 160 }],
};

export const sdkMessageTable: TableInput = {
  logicalName: 'sdkmessage',
  entitySetName: 'sdkmessages',
  primaryNameAttribute: 'name',
  displayName: 'Sdk Message',
  objectTypeCode: 4606,
  isCustomEntity: false,
  attributes: [{ logicalName: 'name', type: 'String', displayName: 'Name', maxLength: 256 }],
};

export const sdkMessageFilterTable: TableInput = {
  logicalName: 'sdkmessagefilter',
  entitySetName: 'sdkmessagefilters',
  primaryNameAttribute: 'name',
  displayName: 'Sdk Message Filter',
  objectTypeCode: 4607,
  isCustomEntity: false,
  attributes: [
    { logicalName: 'name', type: 'String', displayName: 'Name', maxLength: 256 },
    {
      logicalName: 'primaryobjecttypecode',
      type: 'String',
      displayName: 'Primary Object Type Code',
      maxLength: 64,
    },
    {
      logicalName: 'secondaryobjecttypecode',
      type: 'String',
      displayName: 'Secondary Object Type Code',
      maxLength: 64,
    },
    {
      logicalName: 'iscustomprocessingstepallowed',
      type: 'Boolean',
      displayName: 'Custom Processing Step Allowed',
    },
    { logicalName: 'isvisible', type: 'Boolean', displayName: 'Visible' },
    { logicalName: 'sdkmessageid', type: 'Lookup', displayName: 'SDK Message', target: 'sdkmessage' },
  ],
};

export const serviceEndpointTable: TableInput = {
  logicalName: 'serviceendpoint',
  entitySetName: 'serviceendpoints',
  primaryNameAttribute: 'name',
  displayName: 'Service Endpoint',
  objectTypeCode: 4618,
  isCustomEntity: false,
  attributes: [
    { logicalName: 'name', type: 'String', displayName: 'Name', maxLength: 256 },
    { logicalName: 'description', type: 'Memo', displayName: 'Description', maxLength: 2000 },
    { logicalName: 'url', type: 'String', displayName: 'Url Address', maxLength: 2000 },
    {
      logicalName: 'contract',
      type: 'Picklist',
      displayName: 'Contract',
      options: options([
        [1, 'OneWay'],
        [2, 'Queue'],
        [3, 'Rest'],
        [4, 'TwoWay'],
        [5, 'Topic'],
        [6, 'Queue (Persistent)'],
        [7, 'Event Hub'],
        [8, 'Webhook'],
        [9, 'Event Grid'],
        [10, 'Managed Data Lake'],
      ]),
    },
    {
      logicalName: 'authtype',
      type: 'Picklist',
      displayName: 'Specifies mode of authentication with SB',
      options: options([
        [1, 'ACS'],
        [2, 'SAS Key'],
        [3, 'SAS Token'],
        [4, 'Webhook Key'],
        [5, 'Http Header'],
        [6, 'Http Query String'],
        [7, 'Connection String'],
        [8, 'Access Key'],
      ]),
    },
    // Write-only, as on a real environment: the secret is never returned.
    {
      logicalName: 'authvalue',
      type: 'String',
      displayName: 'Authentication Value',
      maxLength: 2048,
      readable: false,
    },
    {
      logicalName: 'isauthvalueset',
      type: 'Boolean',
      displayName: 'Is Auth Value Set',
      validForCreate: false,
      validForUpdate: false,
    },
    {
      logicalName: 'messageformat',
      type: 'Picklist',
      displayName: 'Content type of the message',
      options: options([
        [1, 'Binary XML'],
        [2, 'Json'],
        [3, 'Text XML'],
      ]),
    },
    {
      logicalName: 'userclaim',
      type: 'Picklist',
      displayName: 'User Claim',
      options: options([
        [1, 'None'],
        [2, 'UserId'],
        [3, 'UserInfo'],
      ]),
    },
    {
      logicalName: 'connectionmode',
      type: 'Picklist',
      displayName: 'Connection Mode',
      options: options([
        [1, 'Normal'],
        [2, 'Federated'],
      ]),
    },
    { logicalName: 'namespaceaddress', type: 'String', displayName: 'Namespace Address', maxLength: 255 },
    { logicalName: 'solutionnamespace', type: 'String', displayName: 'Service Namespace', maxLength: 160 },
    { logicalName: 'path', type: 'String', displayName: 'Path', maxLength: 160 },
  ],
};

export const stepTable: TableInput = {
  logicalName: 'sdkmessageprocessingstep',
  entitySetName: 'sdkmessageprocessingsteps',
  primaryNameAttribute: 'name',
  displayName: 'Sdk Message Processing Step',
  objectTypeCode: 4608,
  isCustomEntity: false,
  attributes: [
    { logicalName: 'name', type: 'String', displayName: 'Name', maxLength: 256 },
    { logicalName: 'description', type: 'Memo', displayName: 'Description', maxLength: 256 },
    {
      logicalName: 'mode',
      type: 'Picklist',
      displayName: 'Execution Mode',
      options: options([
        [0, 'Synchronous'],
        [1, 'Asynchronous'],
      ]),
    },
    {
      logicalName: 'stage',
      type: 'Picklist',
      displayName: 'Execution Stage',
      options: options([
        [5, 'Initial Pre-operation (For internal use only)'],
        [10, 'Pre-validation'],
        [15, 'Internal Pre-operation Before External Plugins (For internal use only)'],
        [20, 'Pre-operation'],
        [25, 'Internal Pre-operation After External Plugins (For internal use only)'],
        [30, 'Main Operation (For internal use only)'],
        [35, 'Internal Post-operation Before External Plugins (For internal use only)'],
        [40, 'Post-operation'],
        [45, 'Internal Post-operation After External Plugins (For internal use only)'],
        [50, 'Post-operation (Deprecated)'],
        [55, 'Final Post-operation (For internal use only)'],
      ]),
    },
    { logicalName: 'rank', type: 'Integer', displayName: 'Execution Order' },
    {
      logicalName: 'supporteddeployment',
      type: 'Picklist',
      displayName: 'Deployment',
      options: options([
        [0, 'Server Only'],
        [1, 'Microsoft Dynamics 365 Client for Outlook Only'],
        [2, 'Both'],
      ]),
    },
    { logicalName: 'asyncautodelete', type: 'Boolean', displayName: 'Asynchronous Automatic Delete' },
    {
      logicalName: 'filteringattributes',
      type: 'Memo',
      displayName: 'Filtering Attributes',
      maxLength: 100_000,
    },
    { logicalName: 'configuration', type: 'Memo', displayName: 'Configuration', maxLength: 1_073_741_823 },
    { logicalName: 'sdkmessageid', type: 'Lookup', displayName: 'SDK Message', target: 'sdkmessage' },
    {
      logicalName: 'sdkmessagefilterid',
      type: 'Lookup',
      displayName: 'Sdk Message Filter',
      target: 'sdkmessagefilter',
    },
    {
      logicalName: 'eventhandler',
      type: 'Lookup',
      displayName: 'Event Handler',
      targets: [{ entity: 'serviceendpoint', navigationProperty: 'eventhandler_serviceendpoint' }],
    },
    {
      logicalName: 'statecode',
      type: 'State',
      displayName: 'Status',
      options: options([
        [0, 'Enabled'],
        [1, 'Disabled'],
      ]),
    },
    {
      logicalName: 'statuscode',
      type: 'Status',
      displayName: 'Status Reason',
      options: options([
        [1, 'Enabled'],
        [2, 'Disabled'],
      ]),
    },
  ],
};

export const stepImageTable: TableInput = {
  logicalName: 'sdkmessageprocessingstepimage',
  entitySetName: 'sdkmessageprocessingstepimages',
  primaryNameAttribute: 'name',
  displayName: 'Sdk Message Processing Step Image',
  objectTypeCode: 4615,
  isCustomEntity: false,
  attributes: [
    { logicalName: 'name', type: 'String', displayName: 'Name', maxLength: 256 },
    { logicalName: 'entityalias', type: 'String', displayName: 'Entity Alias', maxLength: 256 },
    {
      logicalName: 'imagetype',
      type: 'Picklist',
      displayName: 'Image Type',
      options: options([
        [0, 'PreImage'],
        [1, 'PostImage'],
        [2, 'Both'],
      ]),
    },
    {
      logicalName: 'messagepropertyname',
      type: 'String',
      displayName: 'Message Property Name',
      maxLength: 256,
    },
    { logicalName: 'attributes', type: 'Memo', displayName: 'Attributes', maxLength: 100_000 },
    {
      logicalName: 'sdkmessageprocessingstepid',
      type: 'Lookup',
      displayName: 'SDK Message Processing Step',
      target: 'sdkmessageprocessingstep',
    },
  ],
};

export const asyncOperationTable: TableInput = {
  logicalName: 'asyncoperation',
  entitySetName: 'asyncoperations',
  primaryNameAttribute: 'name',
  displayName: 'System Job',
  objectTypeCode: 4700,
  isCustomEntity: false,
  attributes: [
    { logicalName: 'name', type: 'String', displayName: 'System Job Name', maxLength: 256 },
    {
      logicalName: 'operationtype',
      type: 'Picklist',
      displayName: 'System Job Type',
      options: options([[1, 'System Event']]),
    },
    { logicalName: 'messagename', type: 'String', displayName: 'Message Name', maxLength: 160 },
    { logicalName: 'primaryentitytype', type: 'String', displayName: 'Entity Type', maxLength: 64 },
    { logicalName: 'message', type: 'Memo', displayName: 'Message', maxLength: 1_073_741_823 },
    {
      logicalName: 'friendlymessage',
      type: 'Memo',
      displayName: 'Friendly message',
      maxLength: 1_073_741_823,
    },
    { logicalName: 'errorcode', type: 'Integer', displayName: 'Error Code' },
    { logicalName: 'startedon', type: 'DateTime', displayName: 'Started On' },
    { logicalName: 'completedon', type: 'DateTime', displayName: 'Completed On' },
    { logicalName: 'correlationid', type: 'Uniqueidentifier', displayName: 'Correlation Id' },
    { logicalName: 'requestid', type: 'Uniqueidentifier', displayName: 'Request Id' },
    { logicalName: 'depth', type: 'Integer', displayName: 'Depth' },
    { logicalName: 'retrycount', type: 'Integer', displayName: 'Retry Count' },
    { logicalName: 'data', type: 'Memo', displayName: 'Data', maxLength: 1_073_741_823 },
    {
      logicalName: 'owningextensionid',
      type: 'Lookup',
      displayName: 'Owning Extension',
      targets: [
        {
          entity: 'sdkmessageprocessingstep',
          navigationProperty: 'owningextensionid_sdkmessageprocessingstep',
        },
      ],
    },
    {
      logicalName: 'regardingobjectid',
      type: 'Lookup',
      displayName: 'Regarding',
      targets: [
        { entity: 'contact', navigationProperty: 'regardingobjectid_contact_asyncoperation' },
        { entity: 'account', navigationProperty: 'regardingobjectid_account_asyncoperation' },
        { entity: 'appointment', navigationProperty: 'regardingobjectid_appointment_asyncoperation' },
        { entity: 'task', navigationProperty: 'regardingobjectid_task_asyncoperation' },
        { entity: 'lc_session', navigationProperty: 'regardingobjectid_lc_session_asyncoperation' },
      ],
    },
    {
      logicalName: 'statecode',
      type: 'State',
      displayName: 'Status',
      options: options([
        [0, 'Ready'],
        [1, 'Suspended'],
        [2, 'Locked'],
        [3, 'Completed'],
      ]),
    },
    {
      logicalName: 'statuscode',
      type: 'Status',
      displayName: 'Status Reason',
      options: options([
        [0, 'Waiting For Resources'],
        [10, 'Waiting'],
        [20, 'In Progress'],
        [21, 'Pausing'],
        [22, 'Canceling'],
        [30, 'Succeeded'],
        [31, 'Failed'],
        [32, 'Canceled'],
      ]),
    },
  ],
};

export const systemTables: TableInput[] = [
  systemUserTable,
  businessUnitTable,
  organizationTable,
  sdkMessageTable,
  sdkMessageFilterTable,
  serviceEndpointTable,
  stepTable,
  stepImageTable,
  asyncOperationTable,
];

/** The messages a webhook step can be registered on in the simulator. */
export const WEBHOOK_MESSAGES = ['Create', 'Update', 'Delete'] as const;
export type WebhookMessage = (typeof WEBHOOK_MESSAGES)[number];
