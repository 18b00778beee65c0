/**
 * Retry policies as the app declares them, and their one conversion to `df.RetryOptions`. Every
 * retried call goes through toRetryOptions, so a declared backoff or cap is never silently dropped.
 * Pure: builds options, calls nothing.
 */
import * as df from 'durable-functions';

export interface RetryPolicy {
  firstRetryIntervalMs: number;
  maxAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalMs?: number;
}

export function toRetryOptions(policy: RetryPolicy): df.RetryOptions {
  const options = new df.RetryOptions(policy.firstRetryIntervalMs, policy.maxAttempts);
  if (policy.backoffCoefficient !== undefined) options.backoffCoefficient = policy.backoffCoefficient;
  if (policy.maxRetryIntervalMs !== undefined)
    options.maxRetryIntervalInMilliseconds = policy.maxRetryIntervalMs;
  return options;
}
