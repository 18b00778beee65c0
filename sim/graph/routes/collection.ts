/**
 * Serving a Graph collection: one page of projected items with @odata.context and, when more
 * remain, @odata.nextLink. Must never return a nextLink that leads to an empty page.
 */
import { contextUrl, nextLink, parseQuery, project, type SelectRules } from '../odata';
import type { GraphCall, GraphReply } from './call';

// Graph's page size for directory collections when the caller gives no $top.
const DEFAULT_PAGE_SIZE = 100;

export function serveCollection(
  call: GraphCall,
  entitySet: string,
  items: readonly object[],
  rules: SelectRules & { defaults: readonly string[] },
): GraphReply {
  const options = parseQuery(call.query, rules, { paged: true });
  const pageSize = options.top ?? DEFAULT_PAGE_SIZE;
  const page = items.slice(options.offset, options.offset + pageSize);
  const end = options.offset + page.length;
  const properties = options.select ?? rules.defaults;
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(call.serviceRoot, entitySet, options.select, false),
  };
  if (end < items.length) body['@odata.nextLink'] = nextLink(call.serviceRoot, entitySet, call.query, end);
  body.value = page.map((item) => project(item, properties));
  return { status: 200, body };
}

/** The query is checked before `find` runs: Graph rejects a bad option even for an entity that does not exist. */
export function serveEntity(
  call: GraphCall,
  entitySet: string,
  find: () => object,
  rules: SelectRules & { defaults: readonly string[] },
): GraphReply {
  const options = parseQuery(call.query, rules, { paged: false });
  const item = find();
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call.serviceRoot, entitySet, options.select, true),
      ...project(item, options.select ?? rules.defaults),
    },
  };
}
