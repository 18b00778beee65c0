// HTTP triggers with route templates and auth levels, for the host's HTTP tests.
const { app } = require('@azure/functions');

app.http('orderById', {
  route: 'orders/{id:int}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: (request) => ({ jsonBody: { id: Number(request.params.id), query: request.query.get('q') } }),
});

app.http('newOrder', {
  route: 'orders/new',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => ({ body: 'new-order-form' }),
});

app.http('echoBody', {
  route: 'echo',
  methods: ['POST', 'PUT'],
  authLevel: 'function',
  handler: async (request) => {
    const body = await request.json();
    return {
      status: 201,
      headers: { 'x-echo': 'yes' },
      cookies: [{ name: 'session', value: 'abc', httpOnly: true, path: '/' }],
      jsonBody: { received: body, method: request.method, contentType: request.headers.get('content-type') },
    };
  },
});

app.http('adminOnly', {
  route: 'admin-thing',
  methods: ['GET'],
  authLevel: 'admin',
  handler: () => ({ body: 'secret' }),
});

app.http('broken', {
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => {
    throw new Error('handler exploded');
  },
});

// Hooks: the worker runs them around every invocation.
let invocations = 0;
app.hook.preInvocation((context) => {
  if (context.invocationContext.functionName === 'hookCount') invocations++;
});
app.http('hookCount', {
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => ({ jsonBody: { invocations } }),
});

// Logs the URL it was called with, as careless app code does: the host must not pass a key on.
app.http('logUrl', {
  route: 'log-url',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: (request, context) => {
    context.log(`called as ${request.url}; key header ${request.headers.get('x-functions-key')}`);
    return { status: 204 };
  },
});
