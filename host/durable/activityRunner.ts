/**
 * Runs activity work items (and durable HTTP calls) with the concurrency limit from host.json, and
 * turns each outcome into a TaskCompleted/TaskFailed message for its orchestration. Completions
 * that finish close together share a group commit (the backend's). A work item stays in the store
 * until its completion is committed, so one in flight at a crash runs again (at least once). It
 * only runs work the backend has already stored: it never writes work itself.
 */
import type { Clock } from '../clock';
import type { WorkerCore } from '../worker/coreApi';
import { fromTypedData, invokeFunction } from '../worker/invoke';
import type { HttpRequestAction } from './actions';
import type { FunctionIndex } from './functionIndex';
import { managedIdentityToken } from './managedIdentity';
import { EventType, FailureDetails, HistoryEvent, event } from './history';
import type { ActivityResult, ActivityWork, Backend } from './backend';

export interface ActivityRunnerOptions {
  backend: Backend;
  core: WorkerCore;
  functions: FunctionIndex;
  clock: Clock;
  maxConcurrent: number;
  /** host.json functionTimeout: an activity still running after this fails its task. */
  timeoutMs?: number;
  deliver: (instanceId: string) => void;
  onIdle: () => void;
}

interface Finished {
  work: ActivityWork;
  result: ActivityResult;
}

export class ActivityRunner {
  private readonly queue: ActivityWork[] = [];
  private active = 0;
  private stopped = true;
  /** Results handed to the backend (or about to be) and not yet durable. */
  private committing = 0;
  /** Results of this tick, not yet handed to the backend. */
  private readonly finished: Finished[] = [];

  constructor(private readonly options: ActivityRunnerOptions) {}

  start(): void {
    this.stopped = false;
    this.queue.push(...this.options.backend.pendingActivityWork());
    this.pump();
  }

  /** Waits (bounded) for running activities; one still running stays in the store and runs again. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.active > 0 || this.committing > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
  }

  isIdle(): boolean {
    return this.queue.length === 0 && this.active === 0 && this.committing === 0;
  }

  /** Runs work the backend has committed (an episode's or a rewind's). */
  accept(work: ActivityWork[]): void {
    if (work.length === 0) return;
    this.queue.push(...work);
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
    // Binding data as on Azure: a JSON object input's properties (the official backup sample writes
    // to 'backups/{backupPath}'), instanceId, and the input as `data` and under the trigger's name.
    const input = parseInput(work.input);
    const result = await invokeFunction(this.options.core, fn.fn, {
      inputData: [{ name: fn.triggerKey, data: work.input === null ? {} : { string: work.input } }],
      bindingData: {
        ...(input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {}),
        instanceId: work.instanceId,
        data: input,
        [fn.triggerKey]: input,
      },
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

  /**
   * Hands the result to the backend's group commit; results that finish in the same tick go as one
   * write. The orchestration is woken once its result is durable.
   */
  private complete(work: ActivityWork, e: HistoryEvent): void {
    const result: ActivityResult = {
      workId: work.id,
      message: {
        instanceId: work.instanceId,
        executionId: work.executionId,
        event: e,
        visibleAt: this.options.clock.now(),
      },
    };
    this.committing++;
    this.finished.push({ work, result });
    // A microtask, not a later turn: the batch still joins the group commit this turn ends with.
    if (this.finished.length === 1) queueMicrotask(() => this.commit(this.finished.splice(0)));
  }

  private commit(batch: Finished[]): void {
    this.options.backend.completeActivityWork(batch.map((f) => f.result)).then(
      () => {
        this.committing -= batch.length;
        for (const f of batch) this.options.deliver(f.work.instanceId);
        this.options.onIdle();
      },
      (err: unknown) => {
        // Stopped: the work items are still stored and run again at the next start (at least once).
        if (this.stopped) {
          this.committing -= batch.length;
          return;
        }
        // Keep the results and try again shortly: losing them would run the activities twice.
        console.error(`Committing ${batch.length} activity results failed; retrying: ${String(err)}`);
        setTimeout(() => this.commit(batch), 100).unref();
      },
    );
  }
}

function parseInput(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
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
