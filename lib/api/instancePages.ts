/**
 * The instance listing, one page at a time: one call of the Durable extension's own query
 * (`GET instances` with `top` and the `x-ms-continuation-token` header) through the durable
 * client's binding URLs, so the store reads a page and not every instance. The library's
 * `getStatusBy` follows every continuation token and hands back the whole store; this is what the
 * API lists with instead. The order is the store's (the local host: newest first). It never sends
 * a request anywhere but the binding's own URLs, and never shows a caller the store's raw token.
 */
import type { DurableClient } from 'durable-functions';
import { ApiError } from './errors';
import { instanceSummary, type InstanceSummary, type RawStatus } from './status';

/** The binding data the durable client was built from (the library keeps it untyped). */
interface ClientData {
  rpcBaseUrl?: string | null;
  managementUrls?: { id?: string; statusQueryGetUri?: string };
}

export interface InstanceFilter {
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  runtimeStatus?: string[];
}

export interface StatusPage {
  statuses: RawStatus[];
  /** The store's token for the next page; absent on the last one. */
  continuationToken?: string;
}

const badToken = (): ApiError =>
  ApiError.invalidInput([{ field: 'continuationToken', message: 'is not a token this API handed out' }]);

function queryUrl(client: DurableClient, filter: InstanceFilter, top: number): URL {
  const data = (client as unknown as { clientData?: ClientData }).clientData;
  let url: URL;
  if (data?.rpcBaseUrl) url = new URL('instances/', data.rpcBaseUrl);
  else if (data?.managementUrls?.statusQueryGetUri && data.managementUrls.id)
    url = new URL(data.managementUrls.statusQueryGetUri.replace(data.managementUrls.id, ''));
  else throw new Error('The durable client has neither an rpc base URL nor management URLs.');
  if (filter.createdTimeFrom) url.searchParams.set('createdTimeFrom', filter.createdTimeFrom.toISOString());
  if (filter.createdTimeTo) url.searchParams.set('createdTimeTo', filter.createdTimeTo.toISOString());
  if (filter.runtimeStatus?.length) url.searchParams.set('runtimeStatus', filter.runtimeStatus.join(','));
  url.searchParams.set('top', String(top));
  return url;
}

/** One page of at most `top` statuses from the store, after the store's token. */
export async function readStatusPage(
  client: DurableClient,
  filter: InstanceFilter,
  top: number,
  continuationToken?: string,
): Promise<StatusPage> {
  const res = await fetch(queryUrl(client, filter, top), {
    headers: {
      accept: 'application/json',
      ...(continuationToken ? { 'x-ms-continuation-token': continuationToken } : {}),
    },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status === 400 && continuationToken) throw badToken();
  if (res.status !== 200) throw new Error(`Listing instances answered ${res.status}: ${text.slice(0, 200)}`);
  const next = res.headers.get('x-ms-continuation-token');
  return { statuses: JSON.parse(text) as RawStatus[], ...(next ? { continuationToken: next } : {}) };
}

/** The API's token wraps the store's, so one the API did not hand out is told apart before use. */
function wrap(storeToken: string): string {
  return Buffer.from(JSON.stringify({ s: storeToken }), 'utf8').toString('base64url');
}

function unwrap(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown };
    if (typeof parsed.s === 'string' && parsed.s) return parsed.s;
  } catch {
    // answered below
  }
  throw badToken();
}

/** How many store pages one API page may read to fill itself when a name filter skips most rows. */
const MAX_READS = 10;

export interface InstanceListPage {
  items: InstanceSummary[];
  continuationToken?: string;
}

/**
 * One API page: store pages of at most the room left, filtered by orchestration name, until the page
 * is full or the store has no more. The token points after the last row read, so nothing is skipped
 * or repeated; a page thinned by the name filter may come back short with a token (read on).
 */
export async function listInstancePage(
  client: DurableClient,
  options: { filter: InstanceFilter; names?: string[]; top: number; continuationToken?: string },
): Promise<InstanceListPage> {
  const names = options.names?.length ? options.names.map((n) => n.toLowerCase()) : undefined;
  const items: InstanceSummary[] = [];
  let token = options.continuationToken ? unwrap(options.continuationToken) : undefined;
  for (let reads = 0; reads < MAX_READS; reads++) {
    const page = await readStatusPage(client, options.filter, options.top - items.length, token);
    for (const status of page.statuses)
      if (!names || names.includes(String(status.name).toLowerCase())) items.push(instanceSummary(status));
    token = page.continuationToken;
    if (!token || items.length >= options.top) break;
  }
  return token ? { items, continuationToken: wrap(token) } : { items };
}
