/**
 * Rules for webhook registration records written through the Web API: a Webhook service endpoint
 * needs an http(s) url and a usable authtype/authvalue pair; a step bound to a service endpoint must
 * name an sdkmessage, its filter must belong to that message, and it must be asynchronous in the
 * post-operation stage (the only kind the simulator delivers). Refusals use Dataverse's error body.
 */
import { invalidArgument } from '../errors';
import type { WriteValidator } from '../records';
import type { Catalog } from '../schema/catalog';
import { CONTRACT_WEBHOOK, StepMode } from '../schema/systemTables';
import { lookupTypeColumn, type Store } from '../store';
import { authProblem } from './auth';

export function webhookRegistrationRules(catalog: Catalog, store: Store): WriteValidator {
  return (table, row, changes, creating) => {
    if (table.logicalName === 'serviceendpoint') {
      if ('authvalue' in changes) changes.isauthvalueset = changes.authvalue ? 1 : 0;
      if (row.contract !== CONTRACT_WEBHOOK) return;
      let url: URL | undefined;
      try {
        url = new URL(String(row.url ?? ''));
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        throw invalidArgument('A Webhook service endpoint needs an absolute http or https url.');
      }
      const problem = authProblem(
        row.authtype === null || row.authtype === undefined ? null : Number(row.authtype),
        row.authvalue === null || row.authvalue === undefined ? null : String(row.authvalue),
      );
      if (problem) throw invalidArgument(problem);
      return;
    }
    if (table.logicalName !== 'sdkmessageprocessingstep') return;
    if (creating) {
      if (row.rank === undefined || row.rank === null) changes.rank = row.rank = 1;
      if (row.supporteddeployment === undefined || row.supporteddeployment === null)
        changes.supporteddeployment = row.supporteddeployment = 0;
      if (row.asyncautodelete === undefined || row.asyncautodelete === null)
        changes.asyncautodelete = row.asyncautodelete = 0;
      if (row.mode === undefined || row.mode === null) changes.mode = row.mode = StepMode.synchronous;
      if (row.stage === undefined || row.stage === null) changes.stage = row.stage = 40;
    }
    if (!row.sdkmessageid) throw invalidArgument('A step needs sdkmessageid (sdkmessageid@odata.bind).');
    if (row.sdkmessagefilterid) {
      const filter = store.get(catalog.require('sdkmessagefilter'), String(row.sdkmessagefilterid));
      if (filter && filter.sdkmessageid !== row.sdkmessageid) {
        throw invalidArgument('The sdkmessagefilter of the step belongs to another sdkmessage.');
      }
    }
    if (row[lookupTypeColumn('eventhandler')] !== 'serviceendpoint') return;
    if (row.mode !== StepMode.asynchronous) {
      throw invalidArgument(
        'The Dataverse simulator delivers webhook steps asynchronously only: register the step with mode 1 (Asynchronous).',
      );
    }
    if (row.stage !== 40)
      throw invalidArgument('An asynchronous step must be registered in stage 40 (Post-operation).');
  };
}
