/**
 * What a new instance is made of: its id rules, a fresh execution id, and the row and
 * ExecutionStarted event a start (by a client or by a parent orchestration) writes. Pure apart from
 * random ids: no store access.
 */
import { randomUUID } from 'node:crypto';
import type { NewInstance } from './backend';
import { EngineError } from './engineError';
import { EventType, event } from './history';

export function newExecutionId(): string {
  return randomUUID().replace(/-/g, '');
}

export function validateInstanceId(id: string): void {
  if (!id || id.length > 256)
    throw new EngineError('BAD_REQUEST', 'Instance IDs must be between 1 and 256 characters.');
  // Control and format characters (bidi overrides, zero-width, BOM), line separators and lone
  // surrogates are refused too: listings show ids to people, and these make one id look like another.
  if (/[/\\?#\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.test(id) || id.startsWith('@')) {
    // The id is left out of the message: it is the text that could garble a log or a terminal.
    throw new EngineError(
      'BAD_REQUEST',
      'The instance ID contains characters that are not allowed (/ \\ ? #, control or invisible formatting characters, or a leading @).',
    );
  }
}

export interface InstanceStart {
  instanceId: string;
  name: string;
  input: string | null;
  version: string | null;
  parent?: { instanceId: string; executionId: string; taskId: number; name: string };
  now: number;
}

/** A new (or replacing) instance, Pending, with the ExecutionStarted event for its inbox. */
export function newInstance(args: InstanceStart): NewInstance {
  const executionId = newExecutionId();
  return {
    instance: {
      instanceId: args.instanceId,
      executionId,
      name: args.name,
      version: args.version,
      status: 'Pending',
      input: args.input,
      output: null,
      customStatus: null,
      parentInstanceId: args.parent?.instanceId ?? null,
      parentExecutionId: args.parent?.executionId ?? null,
      parentTaskId: args.parent?.taskId ?? null,
      createdAt: args.now,
      updatedAt: args.now,
      runtime: null,
    },
    started: event(EventType.ExecutionStarted, args.now, {
      Name: args.name,
      Input: args.input,
      Version: args.version ?? '',
      OrchestrationInstance: { InstanceId: args.instanceId, ExecutionId: executionId },
      ParentInstance: args.parent
        ? {
            Name: args.parent.name,
            OrchestrationInstance: {
              InstanceId: args.parent.instanceId,
              ExecutionId: args.parent.executionId,
            },
            TaskScheduleId: args.parent.taskId,
          }
        : null,
    }),
  };
}
