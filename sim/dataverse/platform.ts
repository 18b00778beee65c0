/**
 * The records every Dataverse environment has before anyone writes: the organization, its root
 * business unit, the user the simulator acts as (WhoAmI), and the sdkmessage (Create, Update,
 * Delete) and sdkmessagefilter (one per message and table) records that webhook steps reference.
 * Ids are derived from names, so a data file keeps them across restarts; existing rows are kept.
 */
import { stableId } from './ids';
import type { OperationContext, Records } from './records';
import { WEBHOOK_MESSAGES } from './schema/systemTables';
import type { StoredRow } from './store';

export interface PlatformIdentity {
  organizationId: string;
  organizationName: string;
  businessUnitId: string;
  userId: string;
  userAadObjectId: string;
}

export function platformIdentity(organizationName: string): PlatformIdentity {
  return {
    organizationId: stableId(`organization:${organizationName}`),
    organizationName,
    businessUnitId: stableId(`businessunit:${organizationName}`),
    userId: stableId(`systemuser:${organizationName}:application`),
    userAadObjectId: stableId(`aad:${organizationName}:application`),
  };
}

/** Tables that get an sdkmessagefilter per message: every table except the simulator's own job records. */
const NOT_FILTERABLE = new Set(['asyncoperation', 'sdkmessage', 'sdkmessagefilter']);

export function ensurePlatformRecords(records: Records, identity: PlatformIdentity): void {
  const context: OperationContext = {
    caller: { userId: identity.userId, businessUnitId: identity.businessUnitId },
    correlationId: stableId('platform-setup'),
    requestId: stableId('platform-setup'),
  };
  const ensure = (logicalName: string, id: string, values: StoredRow): void => {
    const table = records.catalog.require(logicalName);
    if (!records.get(table, id))
      records.create(table, { ...values, [table.primaryIdAttribute]: id }, context);
  };
  ensure('organization', identity.organizationId, { name: identity.organizationName });
  ensure('businessunit', identity.businessUnitId, { name: identity.organizationName });
  ensure('systemuser', identity.userId, {
    firstname: '# Life Cockpit',
    lastname: 'Application',
    domainname: `lifecockpit-app@${identity.organizationName}.onmicrosoft.com`,
    azureactivedirectoryobjectid: identity.userAadObjectId,
    isdisabled: 0,
    businessunitid: identity.businessUnitId,
    __type_businessunitid: 'businessunit',
  });
  for (const message of WEBHOOK_MESSAGES) {
    const messageId = stableId(`sdkmessage:${message}`);
    ensure('sdkmessage', messageId, { name: message });
    for (const table of records.catalog.tables) {
      if (NOT_FILTERABLE.has(table.logicalName)) continue;
      ensure('sdkmessagefilter', stableId(`sdkmessagefilter:${message}:${table.logicalName}`), {
        name: `${message} ${table.logicalName}`,
        primaryobjecttypecode: table.logicalName,
        secondaryobjecttypecode: 'none',
        iscustomprocessingstepallowed: 1,
        isvisible: 1,
        sdkmessageid: messageId,
        __type_sdkmessageid: 'sdkmessage',
      });
    }
  }
}
