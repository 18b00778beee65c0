/**
 * The configuration change saga: the app's configuration is versioned JSON in Blob storage; a change
 * writes a new version and moves the current pointer, and its compensation moves the pointer back.
 * A finished change records a rollback point.
 */
import type { OrchestrationContext } from 'durable-functions';
import { configChangeFlow } from '../lib/orchestrations';
import { Saga, call, defineOrchestration } from '../lib/saga';
import { activateConfigVersion, readConfig, writeConfigVersion, type AppConfig } from '../activities/config';
import { recordRollbackPoint } from '../activities/rollbackPoints';
import { configChangeInput } from '../lib/contracts/configChange';
import { parseInput } from '../lib/contracts/problems';

export const configChange = defineOrchestration(configChangeFlow, function* (context: OrchestrationContext) {
  const input = parseInput(configChangeInput, context.df.getInput());
  const instanceId = context.df.instanceId;
  const at = context.df.currentUtcDateTime.toISOString();
  const current = yield* call(context, readConfig, undefined);
  let next: AppConfig = input.value ?? { ...(current?.value ?? {}) };
  if (input.patch) {
    for (const [k, v] of Object.entries(input.patch)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
  }
  next = JSON.parse(JSON.stringify(next)) as AppConfig;
  const previous = current?.version;
  const saga = new Saga(context, 'configChange');
  saga.annotate({ description: input.description ?? '', fromVersion: previous ?? null });
  return yield* saga.run(function* () {
    const version: number = yield* saga.step({
      name: 'write new version',
      activity: writeConfigVersion,
      input: { value: next, version: (current?.latest ?? 0) + 1, instanceId, at },
    });
    yield* saga.step({
      name: `activate version ${version}`,
      activity: activateConfigVersion,
      input: { version, expected: previous, instanceId, at },
      compensation:
        previous === undefined
          ? undefined
          : { activity: activateConfigVersion, input: { version: previous, instanceId, at } },
    });
    const point = yield* saga.step({
      name: 'record rollback point',
      activity: recordRollbackPoint,
      input: {
        sagaInstanceId: instanceId,
        description: input.description ?? `Configuration version ${version}`,
        createdAt: at,
        retentionDays: input.retentionDays,
        resources: [{ kind: 'config' as const, name: 'app', versionAfter: version }],
        plan:
          previous === undefined
            ? []
            : [{ kind: 'config-activate' as const, name: 'app', version: previous }],
        snapshots: [],
      },
    });
    return { version, previousVersion: previous ?? null, rollbackPointId: point.id };
  });
});
