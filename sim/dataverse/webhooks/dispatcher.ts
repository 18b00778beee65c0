/**
 * Delivers webhooks the way Dataverse's asynchronous service does: each matching step gets a system
 * job (asyncoperation) that starts Waiting, goes In Progress, and ends Succeeded (or is deleted when
 * the step asks for asyncautodelete) or Failed with the reason. The request is a POST of the
 * RemoteExecutionContext with the x-ms-dynamics-* and correlation headers; only a 502, 503 or 504
 * answer earns exactly one more attempt. Jobs of one step run one at a time, in order (different
 * steps in parallel), after the change was committed; the dispatcher never delays or fails the client
 * request that caused the change.
 */
import type { ChangeEvent, Records } from '../records';
import type { Catalog } from '../schema/catalog';
import { AsyncState, AsyncStatus } from '../schema/systemTables';
import { lookupTypeColumn, type StoredRow } from '../store';
import { formatDateTime } from '../values';
import { applyAuth } from './auth';
import { buildContext, MAX_WEBHOOK_PAYLOAD_BYTES, shrinkContext } from './context';
import type { StepMatch, StepRegistry } from './registry';

export interface DispatcherOptions {
  /** How long one attempt may take before it counts as failed (Dataverse: 60 s). */
  timeoutMs: number;
  /** Pause before the single retry after 502/503/504. */
  retryDelayMs: number;
  organization: () => { id: string; name: string; host: string };
  userAadObjectId: (userId: string) => string;
  /** Receives unexpected failures of the dispatcher itself (not endpoint failures, which become Failed jobs). */
  onError: (err: unknown) => void;
}

interface Attempt {
  ok: boolean;
  status?: number;
  error?: string;
}

const RETRY_STATUSES = new Set([502, 503, 504]);
/** errorcode of a failed webhook job: UnExpected (0x80040216). */
const WEBHOOK_ERROR_CODE = -2147220970;
/** Tables whose changes never trigger webhooks: system jobs and the registration records themselves. */
const SILENT_TABLES = new Set([
  'asyncoperation',
  'sdkmessage',
  'sdkmessagefilter',
  'sdkmessageprocessingstep',
  'sdkmessageprocessingstepimage',
  'serviceendpoint',
]);

export class WebhookDispatcher {
  /** One delivery queue per step, so a slow endpoint holds up only its own jobs. */
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly records: Records,
    private readonly catalog: Catalog,
    private readonly registry: StepRegistry,
    private readonly options: DispatcherOptions,
  ) {}

  /** Called after every committed change. */
  handle(event: ChangeEvent): void {
    if (this.closed || SILENT_TABLES.has(event.table.logicalName)) return;
    for (const match of this.registry.matching(event)) {
      const job = this.createJob(event, match);
      const stepId = String(match.step.sdkmessageprocessingstepid);
      const previous = this.chains.get(stepId) ?? Promise.resolve();
      const next = previous.then(() => this.run(event, match, job)).catch(this.options.onError);
      this.chains.set(stepId, next);
      void next.then(() => {
        if (this.chains.get(stepId) === next) this.chains.delete(stepId);
      });
    }
  }

  /** Resolves once every delivery queued so far (and any queued meanwhile) has finished. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /** Stops delivering: in-flight requests are aborted, queued jobs stay Waiting. */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    await this.idle();
  }

  private createJob(event: ChangeEvent, match: StepMatch): StoredRow {
    const table = this.catalog.require('asyncoperation');
    const stepId = String(match.step.sdkmessageprocessingstepid);
    const regarding: StoredRow = {};
    const targetsRegarding = this.catalog
      .attribute(table, 'regardingobjectid')
      ?.targets?.some((t) => t.entity === event.table.logicalName);
    if (event.message !== 'Delete' && targetsRegarding) {
      regarding.regardingobjectid = event.id;
      regarding[lookupTypeColumn('regardingobjectid')] = event.table.logicalName;
    }
    return this.records.create(
      table,
      {
        name: String(match.step.name ?? `Webhook: ${event.message} of ${event.table.logicalName}`),
        operationtype: 1,
        messagename: event.message,
        primaryentitytype: event.table.logicalName,
        statecode: AsyncState.ready,
        statuscode: AsyncStatus.waitingForResources,
        correlationid: event.context.correlationId,
        requestid: event.context.requestId,
        depth: 1,
        retrycount: 0,
        owningextensionid: stepId,
        [lookupTypeColumn('owningextensionid')]: 'sdkmessageprocessingstep',
        ...regarding,
      },
      event.context,
    );
  }

  private async run(event: ChangeEvent, match: StepMatch, job: StoredRow): Promise<void> {
    const table = this.catalog.require('asyncoperation');
    const jobId = String(job.asyncoperationid);
    const waiting = this.records.get(table, jobId);
    // Nothing to do after close, or when someone deleted the job before it ran.
    if (this.closed || !waiting) return;
    const started = this.records.update(
      table,
      waiting,
      {
        statecode: AsyncState.locked,
        statuscode: AsyncStatus.inProgress,
        startedon: formatDateTime(Date.now()),
      },
      event.context,
    );
    const organization = this.options.organization();
    const context = buildContext({
      event,
      step: {
        id: String(match.step.sdkmessageprocessingstepid),
        name: match.step.name === null ? null : String(match.step.name),
        mode: Number(match.step.mode ?? 1),
        stage: Number(match.step.stage ?? 40),
      },
      operationId: jobId,
      organization,
      images: match.images,
      userAadObjectId: this.options.userAadObjectId(event.context.caller.userId),
    });
    let body = JSON.stringify(context);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'x-ms-dynamics-organization': organization.host,
      'x-ms-dynamics-entity-name': event.table.logicalName,
      'x-ms-dynamics-request-name': event.message,
      'x-ms-correlation-request-id': event.context.correlationId,
    };
    if (Buffer.byteLength(body) > MAX_WEBHOOK_PAYLOAD_BYTES) {
      body = JSON.stringify(shrinkContext(context));
      headers['x-ms-dynamics-msg-size-exceeded'] = 'true';
    }
    const auth = applyAuth(
      String(match.endpoint.url),
      Number(match.endpoint.authtype),
      String(match.endpoint.authvalue ?? ''),
    );
    Object.assign(headers, auth.headers);

    let attempt = await this.post(auth.url, headers, body);
    let attempts = 1;
    if (!attempt.ok && attempt.status !== undefined && RETRY_STATUSES.has(attempt.status) && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs));
      attempt = await this.post(auth.url, headers, body);
      attempts = 2;
    }

    const current = this.records.get(table, jobId) ?? started;
    if (attempt.ok) {
      if (match.step.asyncautodelete === 1) {
        this.records.delete(table, current, event.context);
        return;
      }
      this.records.update(
        table,
        current,
        {
          statecode: AsyncState.completed,
          statuscode: AsyncStatus.succeeded,
          completedon: formatDateTime(Date.now()),
          retrycount: attempts - 1,
          data: body,
        },
        event.context,
      );
      return;
    }
    const reason =
      attempt.status !== undefined
        ? `the endpoint answered HTTP ${attempt.status}`
        : (attempt.error ?? 'no answer');
    this.records.update(
      table,
      current,
      {
        statecode: AsyncState.completed,
        statuscode: AsyncStatus.failed,
        completedon: formatDateTime(Date.now()),
        retrycount: attempts - 1,
        errorcode: WEBHOOK_ERROR_CODE,
        message: `Webhook delivery to ${String(match.endpoint.url)} failed after ${attempts} attempt(s): ${reason}.`,
        friendlymessage: `The webhook '${String(match.endpoint.name ?? '')}' could not be delivered: ${reason}.`,
        data: body,
      },
      event.context,
    );
  }

  private async post(url: string, headers: Record<string, string>, body: string): Promise<Attempt> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(new Error('timeout')), this.options.timeoutMs);
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: controller.signal });
      await response.arrayBuffer().catch(() => undefined);
      return { ok: response.status >= 200 && response.status < 300, status: response.status };
    } catch (err) {
      const timedOut = controller.signal.aborted && !this.closed;
      return {
        ok: false,
        error: timedOut
          ? `no answer within ${this.options.timeoutMs} ms`
          : `the request failed (${err instanceof Error ? err.message : String(err)})`,
      };
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }
}
