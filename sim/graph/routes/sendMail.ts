/**
 * POST /users/{id | userPrincipalName}/sendMail: validates the message as Graph does, answers 202
 * with no body, and puts what would have been delivered into the simulator's outbox. Must never
 * deliver anything anywhere: the outbox is the only place a message goes.
 */
import { randomUUID } from 'node:crypto';
import { graphErrors } from '../errors';
import type { GraphCall, GraphReply } from './call';
import { readJsonPayload, readSendMailRequest } from './sendMailBody';

export function sendMail(call: GraphCall, key: string): GraphReply {
  const payload = readJsonPayload(call.body);
  const sender = call.store.findUser(key);
  if (!sender) throw graphErrors.mailboxNotFound(key);
  const request = readSendMailRequest(payload);
  call.store.recordMail({
    id: randomUUID(),
    sentDateTime: new Date().toISOString(),
    sender: { id: sender.id, userPrincipalName: sender.userPrincipalName, mail: sender.mail },
    saveToSentItems: request.saveToSentItems,
    message: request.message,
  });
  return { status: 202 };
}
