/**
 * GET /users and GET /users/{id | userPrincipalName}: the directory's users with Graph's default
 * property set, $select, $top and paging. Must never reveal a property outside the default set
 * unless $select asked for it, as Graph does not.
 */
import { graphErrors } from '../errors';
import { DEFAULT_USER_PROPERTIES, KNOWN_USER_PROPERTIES, type GraphUser } from '../model';
import type { GraphCall, GraphReply } from './call';
import { serveCollection, serveEntity } from './collection';

const USER_RULES = { type: 'user', known: KNOWN_USER_PROPERTIES, defaults: DEFAULT_USER_PROPERTIES };

export function listUsers(call: GraphCall): GraphReply {
  return serveCollection(call, 'users', call.store.users(), USER_RULES);
}

export function getUser(call: GraphCall, key: string): GraphReply {
  const find = (): GraphUser => {
    const user = call.store.findUser(key);
    if (!user) throw graphErrors.resourceNotFound(key);
    return user;
  };
  return serveEntity(call, 'users', find, USER_RULES);
}
