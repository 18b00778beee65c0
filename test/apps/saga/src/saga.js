// Saga fixture: steps that record what ran into a journal, fail on request, and undo themselves.
const df = require('durable-functions');
const {
  Saga,
  call,
  defineActivity,
  defineOrchestration,
  orchestrationRef,
} = require('../../../../dist/lib/saga');
const { ServiceUnavailableError } = require('../../../../dist/lib/errors/transient');

const journal = (globalThis.__sagaJournal = globalThis.__sagaJournal ?? []);
const attempts = new Map();

const doStep = defineActivity('doStep', (input) => {
  const n = (attempts.get(`${input.run}:${input.step}`) ?? 0) + 1;
  attempts.set(`${input.run}:${input.step}`, n);
  journal.push(`${input.run}: do ${input.step} (attempt ${n})`);
  if (input.failAlways || (input.failTimes ?? 0) >= n) throw new Error(`${input.step} broke`);
  // A service that is down for the first busyTimes attempts.
  if ((input.busyTimes ?? 0) >= n) throw new ServiceUnavailableError('Dataverse', `${input.step}: busy`);
  return { step: input.step, token: `${input.step}-done` };
});

const undoStep = defineActivity('undoStep', (input) => {
  const key = `${input.run}:undo:${input.step}`;
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  journal.push(`${input.run}: undo ${input.step} with ${input.token} (attempt ${n})`);
  if (input.failAlways || (input.failTimes ?? 0) >= n) throw new Error(`undo of ${input.step} broke`);
  return null;
});

const quickRetry = { firstRetryIntervalMs: 1000, maxAttempts: 3 };

// A step and its undo as sub-orchestrations, each running the activity above.
const doChild = defineOrchestration(orchestrationRef('sagaChild'), function* (context) {
  return yield* call(context, doStep, context.df.getInput());
});
const undoChild = defineOrchestration(orchestrationRef('sagaUndoChild'), function* (context) {
  return yield* call(context, undoStep, context.df.getInput());
});

df.app.orchestration('sagaFlow', function* (context) {
  const { run, steps } = context.df.getInput();
  const undo = (s) => ({
    ...(s.sub ? { orchestration: undoChild } : { activity: undoStep }),
    input: (r) => ({
      run,
      step: s.name,
      token: r.token,
      failTimes: s.undoFailTimes,
      failAlways: s.undoFails,
    }),
    retry: quickRetry,
  });
  const saga = new Saga(context, 'sagaFlow');
  return yield* saga.run(function* () {
    const results = [];
    for (const s of steps) {
      results.push(
        yield* saga.step({
          name: s.name,
          ...(s.sub
            ? { orchestration: doChild, instanceId: `${context.df.instanceId}:${s.name}` }
            : { activity: doStep }),
          input: { run, step: s.name, failTimes: s.failTimes, failAlways: s.fail, busyTimes: s.busyTimes },
          retry: s.retry ? quickRetry : undefined,
          transientRetry: s.noWait ? false : undefined,
          pivot: s.pivot,
          compensation: s.noUndo ? undefined : s.undoIf === false ? () => undefined : undo(s),
        }),
      );
      if (s.throwAfter) throw new Error(`orchestrator code failed after ${s.name}`);
    }
    return results.map((r) => r.token);
  });
});
