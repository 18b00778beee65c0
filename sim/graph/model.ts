/**
 * The shapes the Graph simulator stores and serves: users, the organization, the messages in each
 * mailbox's Drafts and Sent Items, and the mail that went out (sendMail, or a draft's send). Property names are Graph v1.0's own, so a stored record can be served as is.
 * Must never hold anything Graph would not return (no simulator bookkeeping inside a resource).
 */

export interface GraphUser {
  id: string;
  displayName: string | null;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  userPrincipalName: string;
  jobTitle: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  officeLocation: string | null;
  preferredLanguage: string | null;
  // Outside the default property set: served only when asked for with $select.
  accountEnabled?: boolean;
  department?: string | null;
  companyName?: string | null;
  mailNickname?: string | null;
  usageLocation?: string | null;
  userType?: string | null;
  createdDateTime?: string | null;
}

/** What GET /users returns for each user when no $select is given (Graph's documented default set). */
export const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
] as const;

/**
 * Real v1.0 user properties a $select may name. Those the simulator does not store come back as
 * null, as they would for a user on whom they were never set; any other name is a 400, as in Graph.
 */
export const KNOWN_USER_PROPERTIES: ReadonlySet<string> = new Set([
  ...DEFAULT_USER_PROPERTIES,
  'accountEnabled',
  'ageGroup',
  'city',
  'companyName',
  'country',
  'createdDateTime',
  'creationType',
  'department',
  'employeeId',
  'employeeType',
  'faxNumber',
  'imAddresses',
  'mailNickname',
  'otherMails',
  'postalCode',
  'proxyAddresses',
  'state',
  'streetAddress',
  'usageLocation',
  'userType',
]);

export interface VerifiedDomain {
  capabilities: string;
  isDefault: boolean;
  isInitial: boolean;
  name: string;
  type: string;
}

export interface Organization {
  id: string;
  displayName: string;
  verifiedDomains: VerifiedDomain[];
  businessPhones: string[];
  city: string | null;
  country: string | null;
  countryLetterCode: string | null;
  postalCode: string | null;
  state: string | null;
  street: string | null;
  preferredLanguage: string | null;
  tenantType: string;
  createdDateTime: string;
  technicalNotificationMails: string[];
}

export interface EmailAddress {
  address: string;
  name?: string;
}

export interface Recipient {
  emailAddress: EmailAddress;
}

export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}

/** The message a sendMail call carried, after validation; optional parts stay absent if not sent. */
export interface MailMessage {
  subject: string;
  body: ItemBody;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  importance?: 'low' | 'normal' | 'high';
}

/** One accepted sendMail call, as the outbox admin route lists it. */
export interface SentMail {
  /** Simulator-assigned id, so a test can tell two identical messages apart. */
  id: string;
  /** When the simulator accepted the message (ISO 8601, UTC). */
  sentDateTime: string;
  /** The mailbox the message went out from (the user in the sendMail path, resolved). */
  sender: { id: string; userPrincipalName: string; mail: string | null };
  saveToSentItems: boolean;
  message: MailMessage;
}

/**
 * A message in a mailbox (Drafts or Sent Items), with Graph's property names. A draft's send makes a
 * new message in Sent Items with an id of its own and removes the draft, as Exchange does.
 */
export interface MailboxMessage extends Required<MailMessage> {
  id: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  sentDateTime: string | null;
  isDraft: boolean;
  internetMessageId: string;
  conversationId: string;
  parentFolderId: string;
  from: Recipient | null;
}

/** What GET on a message returns without $select (a subset of Graph's default set). */
export const DEFAULT_MESSAGE_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'sentDateTime',
  'subject',
  'body',
  'importance',
  'isDraft',
  'internetMessageId',
  'conversationId',
  'parentFolderId',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
] as const;

export const KNOWN_MESSAGE_PROPERTIES: ReadonlySet<string> = new Set(DEFAULT_MESSAGE_PROPERTIES);

/** The well-known mail folders the simulator keeps (Graph's well-known folder names). */
export type WellKnownFolder = 'drafts' | 'sentitems';
