/**
 * Connection checks, for checking a deployment's wiring by hand, behind the function key:
 * GET /api/auth/test (can the app authenticate to Dataverse and Graph, and as whom),
 * GET /api/graph/users (the tenant's users, `?top=` up to 999), GET /api/dataverse/tables (the
 * environment's tables). They answer with what the services said, never with a token or a secret.
 */
import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { services } from '../../lib/config/services';
import { SettingsError } from '../../lib/config/settings';
import { DataverseError } from '../../lib/dataverse';
import { GraphServiceError } from '../../lib/graph';
import { answering } from '../../lib/api/errors';

function failure(err: unknown): HttpResponseInit {
  if (err instanceof SettingsError)
    return { status: 503, jsonBody: { code: err.code, message: err.message } };
  if (err instanceof GraphServiceError || err instanceof DataverseError)
    return { status: 502, jsonBody: { code: err.code, message: err.message, status: err.statusCode } };
  throw err;
}

async function attempt<T>(
  run: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; code: string; message: string }> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    const known =
      err instanceof GraphServiceError || err instanceof DataverseError || err instanceof SettingsError;
    return {
      ok: false,
      code: known ? String((err as { code: string }).code) : 'UNAVAILABLE',
      message: err instanceof Error ? err.message : String(err),
    };
  }
}

export async function authTest(): Promise<HttpResponseInit> {
  const s = services();
  const [dataverse, graph] = await Promise.all([
    attempt(() => s.dataverse().whoAmI()),
    attempt(() => s.graph().getToken()),
  ]);
  const body = {
    dataverse: dataverse.ok
      ? {
          state: 'ok',
          userId: dataverse.value.UserId,
          organizationId: dataverse.value.OrganizationId,
          businessUnitId: dataverse.value.BusinessUnitId,
        }
      : { state: 'failed', code: dataverse.code, message: dataverse.message },
    graph: graph.ok
      ? { state: 'ok', tokenExpiresOn: graph.value.expiresOn, mailSender: s.settings.mailSender ?? null }
      : { state: 'failed', code: graph.code, message: graph.message },
  };
  return { status: dataverse.ok && graph.ok ? 200 : 503, jsonBody: body };
}

export async function graphUsers(request: HttpRequest): Promise<HttpResponseInit> {
  const raw = request.query.get('top');
  const top = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(top) || top < 1 || top > 999)
    return {
      status: 400,
      jsonBody: { code: 'BAD_REQUEST', message: `top must be a whole number from 1 to 999, got '${raw}'.` },
    };
  try {
    const pages = services()
      .graph()
      .listUsers({ pageSize: top, select: ['id', 'displayName', 'mail', 'userPrincipalName', 'jobTitle'] })
      .byPage();
    const first = await pages.next();
    const page = first.done ? { users: [], nextLink: undefined } : first.value;
    return { jsonBody: { value: page.users, more: page.nextLink !== undefined } };
  } catch (err) {
    return failure(err);
  }
}

export async function dataverseTables(): Promise<HttpResponseInit> {
  try {
    const value = [];
    for await (const t of services()
      .dataverse()
      .query('EntityDefinitions', {
        select: [
          'LogicalName',
          'EntitySetName',
          'PrimaryIdAttribute',
          'PrimaryNameAttribute',
          'IsCustomEntity',
        ],
      })) {
      value.push({
        logicalName: t.LogicalName,
        entitySetName: t.EntitySetName,
        primaryIdAttribute: t.PrimaryIdAttribute,
        primaryNameAttribute: t.PrimaryNameAttribute ?? null,
        isCustom: t.IsCustomEntity === true,
      });
    }
    value.sort((a, b) => String(a.logicalName).localeCompare(String(b.logicalName)));
    return { jsonBody: { value } };
  } catch (err) {
    return failure(err);
  }
}

app.http('authTest', {
  route: 'auth/test',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering(authTest),
});
app.http('graphUsers', {
  route: 'graph/users',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering(graphUsers),
});
app.http('dataverseTables', {
  route: 'dataverse/tables',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering(dataverseTables),
});
