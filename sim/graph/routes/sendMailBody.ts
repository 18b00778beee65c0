/**
 * Reading a sendMail request body: the JSON `{ message, saveToSentItems }` Graph accepts, checked
 * the way Graph checks it, into a typed MailMessage. This is the boundary where untyped input is
 * validated; nothing past it sees `unknown`. Must never accept a message Graph would refuse (no
 * recipients, an address that cannot resolve), so a test against the simulator proves something.
 */
import { graphErrors } from '../errors';
import type { ItemBody, MailMessage, Recipient } from '../model';

export interface SendMailRequest {
  message: MailMessage;
  saveToSentItems: boolean;
}

/** Only the JSON syntax; the rest waits until the sending user is known, as Graph resolves it first. */
export function readJsonPayload(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw graphErrors.emptyPayload();
  try {
    return JSON.parse(text);
  } catch {
    throw graphErrors.unreadableJson();
  }
}

export function readSendMailRequest(payload: unknown): SendMailRequest {
  if (!isRecord(payload)) throw graphErrors.unreadableJson();
  const message = field(payload, 'message');
  if (!isRecord(message)) throw graphErrors.missingMessage();
  const parsed = readMessage(message);
  if (!hasRecipients(parsed)) throw graphErrors.noRecipients();
  return { message: parsed, saveToSentItems: readSaveToSentItems(field(payload, 'saveToSentItems')) };
}

/** A message's fields as Graph reads them (a draft may have no recipients yet; sending needs one). */
export function readMessage(message: Record<string, unknown>): MailMessage {
  const parsed: MailMessage = {
    subject: optionalText(message, 'subject') ?? '',
    body: readItemBody(field(message, 'body')),
    toRecipients: readRecipients(message, 'toRecipients'),
    ccRecipients: readRecipients(message, 'ccRecipients'),
    bccRecipients: readRecipients(message, 'bccRecipients'),
    replyTo: readRecipients(message, 'replyTo'),
  };
  const importance = readImportance(field(message, 'importance'));
  if (importance) parsed.importance = importance;
  return parsed;
}

export function hasRecipients(
  message: Pick<MailMessage, 'toRecipients' | 'ccRecipients' | 'bccRecipients'>,
): boolean {
  return message.toRecipients.length + message.ccRecipients.length + message.bccRecipients.length > 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readItemBody(raw: unknown): ItemBody {
  if (raw === undefined || raw === null) return { contentType: 'text', content: '' };
  if (!isRecord(raw)) throw graphErrors.invalidRequestBody("The 'body' property must be an object.");
  const type = field(raw, 'contentType') ?? 'text';
  if (typeof type !== 'string' || !['text', 'html'].includes(type.toLowerCase())) {
    throw graphErrors.invalidRequestBody(`Requested value '${String(type)}' was not found.`);
  }
  return {
    contentType: type.toLowerCase() as ItemBody['contentType'],
    content: optionalText(raw, 'content') ?? '',
  };
}

// A deliverable address needs a local part and a domain with a dot; Exchange resolves nothing else.
const SMTP_ADDRESS = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]+$/;

function readRecipients(message: Record<string, unknown>, name: string): Recipient[] {
  const raw = field(message, name);
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw graphErrors.invalidRequestBody(`The '${name}' property must be an array.`);
  return raw.map((entry) => {
    const emailAddress = isRecord(entry) ? field(entry, 'emailAddress') : undefined;
    const address = isRecord(emailAddress) ? field(emailAddress, 'address') : undefined;
    if (typeof address !== 'string' || !SMTP_ADDRESS.test(address.trim())) {
      throw graphErrors.unresolvedRecipient(typeof address === 'string' ? address : '');
    }
    const displayName = isRecord(emailAddress) ? field(emailAddress, 'name') : undefined;
    const recipient: Recipient = { emailAddress: { address: address.trim() } };
    if (typeof displayName === 'string') recipient.emailAddress.name = displayName;
    return recipient;
  });
}

function readImportance(raw: unknown): MailMessage['importance'] {
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (value === 'low' || value === 'normal' || value === 'high') return value;
  throw graphErrors.invalidRequestBody(`Requested value '${String(raw)}' was not found.`);
}

function readSaveToSentItems(raw: unknown): boolean {
  if (raw === undefined || raw === null) return true; // Graph's default: keep a copy in Sent Items.
  if (typeof raw === 'boolean') return raw;
  // Graph also takes the JSON strings "true" and "false" here; many scripts send those.
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw graphErrors.invalidRequestBody(
    `Cannot convert the literal '${String(raw)}' to the expected type 'Edm.Boolean'.`,
  );
}

function optionalText(record: Record<string, unknown>, name: string): string | undefined {
  const value = field(record, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw graphErrors.invalidRequestBody(`The '${name}' property must be a string.`);
  return value;
}

// Graph reads these payload property names without regard to case ("Message" works as well).
function field(record: Record<string, unknown>, name: string): unknown {
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}
