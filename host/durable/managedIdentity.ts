/**
 * Tokens for durable HTTP calls that name a `tokenSource` (callHttp with a managed identity), from
 * the App Service managed-identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER), as Azure does.
 * Without that endpoint it fails loudly: a request that asked for a token is never sent without one.
 */

export class TokenUnavailableError extends Error {
  readonly code = 'MANAGED_IDENTITY_UNAVAILABLE';
}

export async function managedIdentityToken(
  resource: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const endpoint = env.IDENTITY_ENDPOINT;
  const secret = env.IDENTITY_HEADER;
  if (!endpoint || !secret) {
    throw new TokenUnavailableError(
      `callHttp asked for a managed-identity token for '${resource}', but no managed identity is available here ` +
        '(IDENTITY_ENDPOINT and IDENTITY_HEADER are not set). Run on Azure with an identity, or pass the Authorization header yourself.',
    );
  }
  const url = new URL(endpoint);
  url.searchParams.set('resource', resource);
  url.searchParams.set('api-version', '2019-08-01');
  if (env.AZURE_CLIENT_ID) url.searchParams.set('client_id', env.AZURE_CLIENT_ID);
  const res = await fetch(url, { headers: { 'X-IDENTITY-HEADER': secret } });
  if (!res.ok)
    throw new TokenUnavailableError(
      `The managed-identity endpoint answered ${res.status} for '${resource}'.`,
    );
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token)
    throw new TokenUnavailableError(`The managed-identity endpoint returned no token for '${resource}'.`);
  return body.access_token;
}
