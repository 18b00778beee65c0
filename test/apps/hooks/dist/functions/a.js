const { app } = require('@azure/functions');

globalThis.__hooksFixture = { appStart: 0, pre: [], post: [], logs: [] };
app.hook.appStart((context) => {
  globalThis.__hooksFixture.appStart++;
  context.hookData.startedBy = 'appStart';
});
app.hook.preInvocation((context) => {
  globalThis.__hooksFixture.pre.push(context.invocationContext.functionName);
  context.hookData.seen = true;
  if (context.invocationContext.functionName === 'wrapped') {
    const original = context.functionHandler;
    context.functionHandler = async (...args) => ({ jsonBody: { wrapped: (await original(...args)).jsonBody } });
  }
});
app.hook.postInvocation((context) => {
  globalThis.__hooksFixture.post.push({ name: context.invocationContext.functionName, seen: context.hookData.seen, error: context.error ? String(context.error) : undefined });
});
app.hook.log((context) => {
  if (context.category === 'user') globalThis.__hooksFixture.logs.push(context.message);
});

app.http('wrapped', { authLevel: 'anonymous', handler: (_req, ctx) => { ctx.log('inside wrapped'); return { jsonBody: 1 }; } });
