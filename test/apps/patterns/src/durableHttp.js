const df = require('durable-functions');

// Calls a URL with durable HTTP; a 202 + Location answer is polled by the host until it settles.
df.app.orchestration('httpPoll', function* (context) {
  const { url } = context.df.getInput();
  const res = yield context.df.callHttp({ method: 'POST', url, body: { job: 'report' } });
  return { statusCode: res.statusCode, content: JSON.parse(res.content) };
});

df.app.orchestration('parentPlain', function* (context) {
  const input = context.df.getInput();
  const greeting = yield context.df.callSubOrchestrator('chaining');
  try {
    yield context.df.callSubOrchestrator('failing', undefined, `${context.df.instanceId}-child`);
    return { greeting, childFailed: false };
  } catch (err) {
    return { greeting, childFailed: true, message: err.message, input };
  }
});

df.app.orchestration('httpWithIdentity', function* (context) {
  const { url } = context.df.getInput();
  try {
    const res = yield context.df.callHttp({
      method: 'GET',
      url,
      tokenSource: new df.ManagedIdentityTokenSource('https://management.core.windows.net/.default'),
      enablePolling: false,
    });
    return { statusCode: res.statusCode, content: res.content };
  } catch (err) {
    return { failed: err.message };
  }
});
