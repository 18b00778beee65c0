/**
 * Runs activity work items (and durable HTTP calls) with the concurrency limit from host.json, and
 * turns each outcome into a TaskCompleted/TaskFailed message for its orchestration. Completions
 * that finish close together are committed in one transaction. A work item stays in the store
 * until its completion is committed, so one in flight at a crash runs again (at least once).
 */
import type { Clock } from '../clock';
import type { WorkerCore } from '../worker/coreApi';
import { fromTypedData, invokeFunction } from '../worker/invoke';
import type { HttpRequestAction } from './actions';
import type { FunctionIndex } from './functionIndex';
import { managedIdentityToken } from './managedIdentity';
import { EventType, FailureDetails, HistoryEvent, event } from './history';
import type { ActivityWork, NewActivityWork, Store } from './store';

export interface ActivityRunnerOptions {
  store: Store;
  core: WorkerCore;
  functions: FunctionIndex;
  clock: Clock;
  maxConcurrent: number;
  /** host.json functionTimeout: an activity still running after this fails its task. */
  timeoutMs?: number;
  deliver: (instanceId: string) => void;
  onIdle: () => void;
  /** Group commit (the engine's); without it each batch of results is its own transaction. */
  commit?: (write: () => void) => Promise<void>;
}

interface Completion {
  work: ActivityWork;
  event: HistoryEvent;
}

export class ActivityRunner {
  private readonly queue: ActivityWork[] = [];
  /** Enqueued inside an uncommitted transaction; released by flushQueued(). */
  private readonly staged: ActivityWork[] = [];
  private active = 0;
  private completions: Completion[] = [];
  private flushScheduled = false;
  private stopped = true;
  /** Result batches handed to the group commit and not yet durable. */
  private committing = 0;

  constructor(private readonly options: ActivityRunnerOptions) {}

  start(): void {
    this.stopped = false;
    this.queue.push(...this.options.store.allActivities());
    this.pump();
  }

  /** Waits (bounded) for running activities; one still running stays in the store and runs again. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.active > 0 || this.committing > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    this.flush();
  }

  /** Forgets work staged by a transaction that rolled back. */
  discardStaged(): void {
    this.staged.length = 0;
  }

  /** Where the next staged work goes; with discardStagedFrom, undoes one savepoint's staging. */
  stagedMark(): number {
    return this.staged.length;
  }

  discardStagedFrom(mark: number): void {
    this.staged.length = Math.min(this.staged.length, mark);
  }

  isIdle(): boolean {
    return (
      this.queue.length === 0 &&
      this.staged.length === 0 &&
      this.active === 0 &&
      this.completions.length === 0 &&
      this.committing === 0
    );
  }

  /** Persists a work item; call inside the transaction that schedules it, then flushQueued(). */
  enqueue(work: NewActivityWork): void {
    this.staged.push(this.options.store.addActivity(work));
  }

  flushQueued(): void {
    if (this.staged.length === 0) return;
    this.queue.push(...this.staged.splice(0));
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.maxConcurrent && this.queue.length > 0) {
      const work = this.queue.shift() as ActivityWork;
      this.active++;
      this.execute(work)
        .then((e) => this.complete(work, e))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private async execute(work: ActivityWork): Promise<HistoryEvent> {
    const now = (): number => this.options.clock.now();
    try {
      const value =
        work.kind === 'http'
          ? await this.callHttp(JSON.parse(work.input ?? '{}') as HttpRequestAction)
          : await this.withTimeout(work.name, this.callActivity(work));
      return event(EventType.TaskCompleted, now(), {
        TaskScheduledId: work.taskId,
        Result: JSON.stringify(value ?? null) ?? 'null',
      });
    } catch (err) {
      const details = failureDetails(err);
      return event(EventType.TaskFailed, now(), {
        TaskScheduledId: work.taskId,
        Reason: `Activity function '${work.name}' failed: ${details.ErrorMessage}`,
        Details: JSON.stringify({
          name: details.ErrorType,
          message: details.ErrorMessage,
          stack: details.StackTrace,
        }),
        FailureDetails: details,
      });
    }
  }

  /**
   * JavaScript cannot be stopped from outside, so a timed-out activity keeps running, but its task
   * fails now, as the Functions host fails an invocation that exceeds functionTimeout.
   */
  private withTimeout<T>(name: string, work: Promise<T>): Promise<T> {
    const limit = this.options.timeoutMs;
    if (!limit) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FunctionTimeoutError(name, limit)), limit);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private async callActivity(work: ActivityWork): Promise<unknown> {
    const fn = this.options.functions.find('activityTrigger', work.name);
    if (!fn)
      throw new Error(
        `The function '${work.name}' doesn't exist, is disabled, or is not an activity function.`,
      );
    const result = await invokeFunction(this.options.core, fn.fn, {
      inputData: [{ name: fn.triggerKey, data: work.input === null ? {} : { string: work.input } }],
    });
    return fromTypedData(result.returnValue);
  }

  private async callHttp(request: HttpRequestAction): Promise<unknown> {
    const headers = new Headers();
    for (const [k, v] of Object.entries(request.headers ?? {})) {
      for (const item of Array.isArray(v) ? v : [v]) headers.append(k, item);
    }
    if (request.tokenSource?.resource) {
      headers.set('Authorization', `Bearer ${await managedIdentityToken(request.tokenSource.resource)}`);
    }
    const response = await fetch(request.uri, {
      method: request.method,
      headers,
      body: request.content === undefined || request.content === null ? undefined : request.content,
    });
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      responseHeaders[key] = value;
    });
    return { statusCode: response.status, headers: responseHeaders, content: await response.text() };
  }

  private complete(work: ActivityWork, e: HistoryEvent): void {
    this.completions.push({ work, event: e });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.options.commit) {
      this.commitWithGroup(this.options.commit);
      return;
    }
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Hands the results to the engine's group commit, which already waits for the end of this turn:
   * every result that arrives before its batch is written goes with it.
   */
  private commitWithGroup(commit: (write: () => void) => Promise<void>): void {
    let batch: Completion[] = [];
    this.committing++;
    commit(() => {
      batch = this.completions;
      this.completions = [];
      this.flushScheduled = false;
      this.write(batch);
    }).then(
      () => {
        this.committing--;
        this.delivered(batch);
      },
      (err: unknown) => {
        this.committing--;
        this.flushScheduled = false;
        this.failed(batch, err);
      },
    );
  }

  /** Commits every completion gathered since the last flush, now. */
  private flush(): void {
    const batch = this.completions;
    if (batch.length === 0) return;
    this.completions = [];
    try {
      this.options.store.transaction(() => this.write(batch));
    } catch (err) {
      this.failed(batch, err);
      return;
    }
    this.delivered(batch);
  }

  private delivered(batch: Completion[]): void {
    for (const c of batch) this.options.deliver(c.work.instanceId);
    this.options.onIdle();
  }

  private failed(batch: Completion[], err: unknown): void {
    // Keep the results and try again shortly: losing them would run the activities twice.
    this.completions.unshift(...batch);
    console.error(`Committing ${batch.length} activity results failed; retrying: ${String(err)}`);
    setTimeout(() => this.flush(), 100).unref();
  }

  private write(batch: Completion[]): void {
    const { store } = this.options;
    for (const c of batch) {
      store.deleteActivity(c.work.id);
      store.addInbox({
        instanceId: c.work.instanceId,
        executionId: c.work.executionId,
        event: c.event,
        visibleAt: this.options.clock.now(),
      });
    }
  }
}

function failureDetails(err: unknown): FailureDetails {
  if (err instanceof Error) {
    // With df.app.setExceptionPropertiesProvider the library puts a JSON description in the message.
    const lifted = liftSerializedFailure(err.message);
    if (lifted) return lifted;
    return { ErrorType: err.name || 'Error', ErrorMessage: err.message, StackTrace: err.stack };
  }
  return {
    ErrorType: 'Error',
    ErrorMessage: typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err)),
  };
}

function liftSerializedFailure(message: string): FailureDetails | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message) as {
      errorType?: string;
      errorMessage?: string;
      stackTrace?: string;
      isNonRetriable?: boolean;
      properties?: Record<string, unknown>;
    };
    if (typeof parsed.errorType !== 'string' || typeof parsed.errorMessage !== 'string') return undefined;
    return {
      ErrorType: parsed.errorType,
      ErrorMessage: parsed.errorMessage,
      StackTrace: parsed.stackTrace,
      IsNonRetriable: parsed.isNonRetriable ?? false,
      Properties: parsed.properties,
    };
  } catch {
    return undefined;
  }
}

export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
  constructor(functionName: string, limitMs: number) {
    super(
      `Timeout value of ${formatTimeSpan(limitMs)} was exceeded by function 'Functions.${functionName}'.`,
    );
  }
}

function formatTimeSpan(ms: number): string {
  const total = Math.round(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}
