/**
 * A mailbox's messages, as Graph serves them: POST /users/{id}/messages creates a draft in Drafts
 * (201, the message), GET /users/{id}/messages/{mid} reads one, POST /users/{id}/messages/{mid}/send
 * sends a draft (202: the draft is gone, a copy with a new id and isDraft false is in Sent Items,
 * and the mail is in the outbox), GET /users/{id}/mailFolders/{drafts|sentitems}/messages lists a
 * folder. Sending the same draft id again is Graph's 404 ErrorItemNotFound, because the draft no
 * longer exists. Must never deliver anything anywhere but the outbox.
 */
import { graphErrors } from '../errors';
import {
  DEFAULT_MESSAGE_PROPERTIES,
  KNOWN_MESSAGE_PROPERTIES,
  type GraphUser,
  type WellKnownFolder,
} from '../model';
import type { GraphCall, GraphReply } from './call';
import { serveCollection, serveEntity } from './collection';
import { hasRecipients, isRecord, readJsonPayload, readMessage } from './sendMailBody';

const MESSAGE_RULES = {
  type: 'message',
  known: KNOWN_MESSAGE_PROPERTIES,
  defaults: DEFAULT_MESSAGE_PROPERTIES,
};

function mailbox(call: GraphCall, key: string): GraphUser {
  const user = call.store.findUser(key);
  if (!user) throw graphErrors.mailboxNotFound(key);
  return user;
}

function entitySet(key: string): string {
  return `users('${key}')/messages`;
}

export function createDraft(call: GraphCall, key: string): GraphReply {
  const payload = readJsonPayload(call.body);
  const user = mailbox(call, key);
  if (!isRecord(payload)) throw graphErrors.unreadableJson();
  const message = readMessage(payload);
  const draft = call.store.createDraft(user.id, {
    subject: message.subject,
    body: message.body,
    toRecipients: message.toRecipients,
    ccRecipients: message.ccRecipients,
    bccRecipients: message.bccRecipients,
    replyTo: message.replyTo,
    importance: message.importance ?? 'normal',
    from: user.mail ? { emailAddress: { address: user.mail, name: user.displayName ?? user.mail } } : null,
  });
  return {
    status: 201,
    body: { '@odata.context': `${call.serviceRoot}/$metadata#${entitySet(key)}/$entity`, ...draft },
  };
}

export function getMessage(call: GraphCall, key: string, id: string): GraphReply {
  return serveEntity(
    call,
    entitySet(key),
    () => {
      const found = call.store.findMessage(mailbox(call, key).id, id);
      if (!found) throw graphErrors.itemNotFound();
      return found;
    },
    MESSAGE_RULES,
  );
}

export function sendDraft(call: GraphCall, key: string, id: string): GraphReply {
  const user = mailbox(call, key);
  const draft = call.store.findMessage(user.id, id);
  if (!draft) throw graphErrors.itemNotFound();
  if (!draft.isDraft) throw graphErrors.notADraft();
  if (!hasRecipients(draft)) throw graphErrors.noRecipients();
  call.store.sendDraft(user.id, id, {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    mail: user.mail,
  });
  return { status: 202 };
}

const FOLDERS: readonly WellKnownFolder[] = ['drafts', 'sentitems'];

export function listFolder(call: GraphCall, key: string, folder: string): GraphReply {
  const known = FOLDERS.find((f) => f === folder.toLowerCase());
  if (!known) throw graphErrors.itemNotFound();
  const messages = call.store.folderMessages(mailbox(call, key).id, known);
  // The path doubles as the nextLink's, so it is one the router serves.
  return serveCollection(
    call,
    `users/${encodeURIComponent(key)}/mailFolders/${known}/messages`,
    messages,
    MESSAGE_RULES,
  );
}
