// An ordinary v4 app with HTTP streams on (`app.setup({ enableHttpStream: true })`): request bodies
// arrive as a stream and responses may be streams, for the host's stream tests.
const { once } = require('node:events');
const { PassThrough, Readable } = require('node:stream');
const { app } = require('@azure/functions');

app.setup({ enableHttpStream: true });

// What the functions saw, so a test can ask afterwards.
const seen = { invocations: {}, echo: undefined, count: undefined };
app.hook.preInvocation((context) => {
  const name = context.invocationContext.functionName;
  seen.invocations[name] = (seen.invocations[name] || 0) + 1;
});

/** Reads a request body chunk by chunk, noting each in `record`, handing each to `onChunk`. */
async function readChunks(request, record, onChunk) {
  try {
    for await (const chunk of request.body) {
      record.chunks++;
      record.bytes += chunk.length;
      await onChunk(chunk);
    }
    record.complete = true;
  } catch (err) {
    record.error = String(err);
    throw err;
  }
}

// Writes the body back while it is still arriving.
app.http('echo', {
  methods: ['POST'],
  authLevel: 'function',
  handler: (request) => {
    const out = new PassThrough();
    seen.echo = { chunks: 0, bytes: 0, complete: false };
    readChunks(request, seen.echo, async (chunk) => {
      if (!out.write(chunk)) await once(out, 'drain');
    }).then(
      () => out.end(),
      (err) => out.destroy(err),
    );
    return { headers: { 'content-type': 'application/octet-stream' }, body: out };
  },
});

// Counts the body without keeping it, and answers once it has all of it.
app.http('count', {
  methods: ['POST'],
  authLevel: 'function',
  handler: async (request) => {
    seen.count = { chunks: 0, bytes: 0, complete: false };
    await readChunks(request, seen.count, () => undefined);
    return { jsonBody: seen.count };
  },
});

// One line every `ms` milliseconds, each saying when it was made.
app.http('ticks', {
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: (request) => {
    const count = Number(request.query.get('count') || 5);
    const every = Number(request.query.get('ms') || 200);
    const body = new Readable({ read() {} });
    let made = 0;
    const tick = () => {
      made++;
      body.push(`tick ${made} ${Date.now()}\n`);
      if (made === count) body.push(null);
      else setTimeout(tick, every);
    };
    tick();
    return { headers: { 'content-type': 'text/plain' }, body };
  },
});

// Route parameters, query, headers, status and cookies, as in a buffered app.
app.http('greet', {
  route: 'greet/{name}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: (request) => ({
    status: 201,
    headers: { 'x-greeted': request.params.name },
    cookies: [{ name: 'seen', value: '1', httpOnly: true, path: '/' }],
    jsonBody: {
      name: request.params.name,
      q: request.query.get('q'),
      header: request.headers.get('x-custom'),
      url: request.url,
    },
  }),
});

app.http('silent', {
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => undefined,
});

app.http('broken', {
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: async () => {
    throw new Error('handler exploded');
  },
});

app.http('seen', {
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: () => ({ jsonBody: seen }),
});
