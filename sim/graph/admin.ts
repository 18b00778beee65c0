/**
 * The simulator's own admin routes, under /_sim/ where no Graph client can reach them by accident:
 * /_sim/faults (shared fault injection) and /_sim/outbox (GET lists the mail sendMail accepted,
 * DELETE empties it). They need no token. Must never answer a Graph path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleFaultAdmin, type FaultInjector } from '../common/faults';
import type { GraphStore } from './store';

export const ADMIN_PREFIX = '/_sim/';

/** Returns false when the request is not for an admin route. */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  context: { store: GraphStore; faults: FaultInjector },
): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (!path.startsWith(ADMIN_PREFIX)) return false;
  if (await handleFaultAdmin(context.faults, req, res, body)) return true;
  const send = (status: number, payload?: unknown): void => {
    res.writeHead(status, payload === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(payload === undefined ? undefined : JSON.stringify(payload));
  };
  if (path !== '/_sim/outbox') {
    send(404, {
      code: 'UNKNOWN_ADMIN_ROUTE',
      message: `No admin route ${path}. Use /_sim/faults or /_sim/outbox.`,
    });
    return true;
  }
  switch (req.method) {
    case 'GET':
      send(200, { value: context.store.outbox() });
      return true;
    case 'DELETE':
      context.store.clearOutbox();
      send(204);
      return true;
    default:
      send(405, { code: 'METHOD_NOT_ALLOWED', message: 'Use GET or DELETE on /_sim/outbox.' });
      return true;
  }
}
