/** The Graph v1.0 shapes the app sends and reads (a small, typed subset). */

export interface EmailAddress {
  address: string;
  name?: string;
}

export interface Recipient {
  emailAddress: EmailAddress;
}

export interface MailMessage {
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  toRecipients: Recipient[];
  ccRecipients?: Recipient[];
  bccRecipients?: Recipient[];
  replyTo?: Recipient[];
  importance?: 'low' | 'normal' | 'high';
}

/** A message in a mailbox, as far as the app reads it back (a draft it created, say). */
export interface MailboxMessage {
  id: string;
  /** True until the message is sent; a sent draft's copy in Sent Items has a new id and false here. */
  isDraft: boolean;
  internetMessageId?: string | null;
  [property: string]: unknown;
}

export interface GraphUser {
  id: string;
  displayName: string | null;
  givenName?: string | null;
  surname?: string | null;
  mail: string | null;
  userPrincipalName: string;
  jobTitle?: string | null;
  [property: string]: unknown;
}

export interface Organization {
  id: string;
  displayName: string;
  verifiedDomains?: { name: string; isDefault: boolean; isInitial: boolean }[];
  [property: string]: unknown;
}

/** A recipient from a plain address. */
export function recipient(address: string, name?: string): Recipient {
  return { emailAddress: name ? { address, name } : { address } };
}
