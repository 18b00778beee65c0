const { app } = require('@azure/functions');
app.http('second', { route: 'second/{*rest}', authLevel: 'anonymous', handler: (req) => ({ body: req.params.rest }) });
