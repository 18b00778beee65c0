/**
 * Maps a request line to the simulator's Graph v1.0 routes. Resolution happens before the token is
 * checked because Graph rejects an unknown segment or version even without credentials; anything
 * that does resolve still has to pass authentication. Must never fall through to a default
 * handler: an unmatched path is Graph's 400 for that segment.
 */
import { graphErrors } from './errors';
import type { GraphCall, GraphReply } from './routes/call';
import { getOrganization, listOrganization } from './routes/organization';
import { createDraft, getMessage, listFolder, sendDraft } from './routes/messages';
import { sendMail } from './routes/sendMail';
import { getUser, listUsers } from './routes/users';

export type RouteHandler = (call: GraphCall) => GraphReply;

export interface ResolvedRoute {
  /** Decoded segments after the version. */
  segments: string[];
  handle: RouteHandler;
}

export const GRAPH_VERSION = 'v1.0';

export function resolveRoute(method: string, pathname: string): ResolvedRoute {
  let decoded: string[];
  try {
    decoded = pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw graphErrors.malformedPath();
  }
  const [version, ...segments] = decoded;
  if (version?.toLowerCase() !== GRAPH_VERSION) throw graphErrors.invalidVersion(version ?? '');
  return { segments, handle: pick(method.toUpperCase(), segments) };
}

function pick(method: string, segments: string[]): RouteHandler {
  const [resource, key, action, ...rest] = segments;
  const only = (allowed: string, handler: RouteHandler): RouteHandler => {
    if (method !== allowed) throw graphErrors.methodNotAllowed();
    return handler;
  };
  if (resource === undefined) return only('GET', serviceDocument);
  switch (resource.toLowerCase()) {
    case 'me':
      // The simulator stands in for app-only access, where Graph refuses /me in exactly this way.
      throw graphErrors.meNeedsDelegatedToken();
    case 'users':
      if (key === undefined) return only('GET', listUsers);
      if (action === undefined) return only('GET', (call) => getUser(call, key));
      if (rest.length === 0 && ['sendmail', 'microsoft.graph.sendmail'].includes(action.toLowerCase())) {
        return only('POST', (call) => sendMail(call, key));
      }
      if (action.toLowerCase() === 'messages') return messageRoute(method, key, rest);
      if (action.toLowerCase() === 'mailfolders' && rest.length === 2 && rest[1].toLowerCase() === 'messages')
        return only('GET', (call) => listFolder(call, key, rest[0]));
      throw graphErrors.unknownSegment(action);
    case 'organization':
      if (key === undefined) return only('GET', listOrganization);
      if (action === undefined) return only('GET', (call) => getOrganization(call, key));
      throw graphErrors.unknownSegment(action);
    default:
      throw graphErrors.unknownSegment(resource);
  }
}

function messageRoute(method: string, key: string, rest: string[]): RouteHandler {
  const [id, operation, ...more] = rest;
  const only = (allowed: string, handler: RouteHandler): RouteHandler => {
    if (method !== allowed) throw graphErrors.methodNotAllowed();
    return handler;
  };
  if (id === undefined) return only('POST', (call) => createDraft(call, key));
  if (operation === undefined) return only('GET', (call) => getMessage(call, key, id));
  if (more.length === 0 && ['send', 'microsoft.graph.send'].includes(operation.toLowerCase()))
    return only('POST', (call) => sendDraft(call, key, id));
  throw graphErrors.unknownSegment(operation);
}

function serviceDocument(call: GraphCall): GraphReply {
  return {
    status: 200,
    body: {
      '@odata.context': `${call.serviceRoot}/$metadata`,
      value: ['users', 'organization'].map((name) => ({ name, kind: 'EntitySet', url: name })),
    },
  };
}
