const df = require('durable-functions');

df.app.orchestration('approval', function* (context) {
  const timeoutMs = (context.df.getInput() ?? {}).timeoutMs ?? 3 * 24 * 3600 * 1000;
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutMs);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent('Approval');
  const winner = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    return { approved: approval.result.approved === true, by: approval.result.by };
  }
  return { approved: false, reason: 'timed out' };
});
