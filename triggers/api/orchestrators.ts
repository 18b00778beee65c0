/**
 * POST /api/orchestrators/{name}[/{instanceId}]: starts a public orchestration (see
 * lib/api/registry.ts) after validating its input. An instance id that exists, or an
 * Idempotency-Key seen before, answers with the existing instance; nothing runs twice.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { services } from '../../lib/config/services';
import { answering } from '../../lib/api/errors';
import { requirePublicOrchestration } from '../../lib/api/registry';
import { readJsonBody } from '../../lib/api/request';
import { startAndAnswer } from '../../lib/api/start';

export async function startOrchestration(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const name = request.params.name;
  // Unknown names are 404 before the body is even read.
  requirePublicOrchestration(name);
  const input = await readJsonBody(request, services().settings.maxBodyBytes);
  return startAndAnswer(df.getClient(context), request, {
    name,
    input,
    instanceId: request.params.instanceId || undefined,
    routeRoot: 'orchestrators',
  });
}

app.http('apiStartOrchestration', {
  route: 'orchestrators/{name}/{instanceId?}',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: answering(startOrchestration),
});
