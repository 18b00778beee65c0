/**
 * The Graph simulator's state: the directory (organization and users), each mailbox's messages
 * (Drafts and Sent Items) and the outbox of mail that went out, in memory and, when given a data file, written through to JSON after every change so a
 * restarted simulator carries on where it stopped. Must never hand out its own records for
 * mutation (callers get copies) and never start from a data file it could not fully read.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import type { GraphUser, MailboxMessage, Organization, SentMail, WellKnownFolder } from './model';
import { demoDirectory, emptyDirectory, type GraphSeedName } from './seed';

/** A message with the mailbox (user id) it lives in: the mailbox is the simulator's, not the resource's. */
interface StoredMessage {
  mailbox: string;
  message: MailboxMessage;
}

interface GraphData {
  organization: Organization;
  users: GraphUser[];
  outbox: SentMail[];
  messages: StoredMessage[];
}

/** A mailbox folder's id: opaque and stable, as Graph's are, and never the same for two mailboxes. */
export function folderId(mailbox: string, folder: WellKnownFolder): string {
  return `AAMkF${createHash('sha256').update(`${mailbox}/${folder}`).digest('base64url').slice(0, 32)}`;
}

/** A new message id: opaque, as Exchange's are. */
function messageId(): string {
  return `AAMkM${Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url')}`;
}

export class GraphDataFileError extends Error {
  override readonly name = 'GraphDataFileError';
  readonly code = 'GRAPH_SIM_DATA_FILE_INVALID';
}

export class GraphStore {
  private constructor(
    private data: GraphData,
    private readonly dataFile: string | undefined,
  ) {}

  /**
   * An existing data file wins over the seed (it is the simulator's saved state); the seed only
   * fills a fresh one. Without either, the directory has an organization and no users.
   */
  static open(options: { dataFile?: string; seed?: GraphSeedName }): GraphStore {
    const { dataFile, seed } = options;
    if (dataFile && existsSync(dataFile)) return new GraphStore(readDataFile(dataFile), dataFile);
    const directory = seed === 'demo' ? demoDirectory() : emptyDirectory();
    const store = new GraphStore({ ...directory, outbox: [], messages: [] }, dataFile);
    store.persist();
    return store;
  }

  users(): GraphUser[] {
    return structuredClone(this.data.users);
  }

  /** By object id or by userPrincipalName, which Graph matches without regard to case. */
  findUser(key: string): GraphUser | undefined {
    const lower = key.toLowerCase();
    const user = this.data.users.find(
      (u) => u.id.toLowerCase() === lower || u.userPrincipalName.toLowerCase() === lower,
    );
    return user && structuredClone(user);
  }

  organization(): Organization {
    return structuredClone(this.data.organization);
  }

  recordMail(mail: SentMail): void {
    this.data.outbox.push(structuredClone(mail));
    this.persist();
  }

  /** Creates a draft in the mailbox's Drafts folder; returns it. */
  createDraft(
    mailbox: string,
    fields: Pick<
      MailboxMessage,
      | 'subject'
      | 'body'
      | 'toRecipients'
      | 'ccRecipients'
      | 'bccRecipients'
      | 'replyTo'
      | 'importance'
      | 'from'
    >,
  ): MailboxMessage {
    const now = new Date().toISOString();
    const message: MailboxMessage = {
      id: messageId(),
      createdDateTime: now,
      lastModifiedDateTime: now,
      sentDateTime: null,
      ...fields,
      isDraft: true,
      internetMessageId: `<${randomUUID()}@graph-sim.local>`,
      conversationId: `AAQk${randomUUID()}`,
      parentFolderId: folderId(mailbox, 'drafts'),
    };
    this.data.messages.push({ mailbox, message: structuredClone(message) });
    this.persist();
    return message;
  }

  /** A message of the mailbox by id, in any folder. */
  findMessage(mailbox: string, id: string): MailboxMessage | undefined {
    const found = this.data.messages.find((m) => m.mailbox === mailbox && m.message.id === id);
    return found && structuredClone(found.message);
  }

  /** The messages in one of the mailbox's folders, oldest first. */
  folderMessages(mailbox: string, folder: WellKnownFolder): MailboxMessage[] {
    const parent = folderId(mailbox, folder);
    return structuredClone(
      this.data.messages.filter((m) => m.mailbox === mailbox && m.message.parentFolderId === parent),
    ).map((m) => m.message);
  }

  /**
   * Sends a draft: removes it, puts a copy with a new id into Sent Items (isDraft false) and the mail
   * into the outbox, in one step. Returns the sent copy.
   */
  sendDraft(mailbox: string, draftId: string, sender: SentMail['sender']): MailboxMessage {
    const index = this.data.messages.findIndex((m) => m.mailbox === mailbox && m.message.id === draftId);
    const draft = this.data.messages[index].message;
    const now = new Date().toISOString();
    const sent: MailboxMessage = {
      ...structuredClone(draft),
      id: messageId(),
      lastModifiedDateTime: now,
      sentDateTime: now,
      isDraft: false,
      parentFolderId: folderId(mailbox, 'sentitems'),
    };
    this.data.messages.splice(index, 1, { mailbox, message: sent });
    this.data.outbox.push({
      id: randomUUID(),
      sentDateTime: now,
      sender,
      saveToSentItems: true,
      message: {
        subject: draft.subject,
        body: draft.body,
        toRecipients: draft.toRecipients,
        ccRecipients: draft.ccRecipients,
        bccRecipients: draft.bccRecipients,
        replyTo: draft.replyTo,
        importance: draft.importance,
      },
    });
    this.persist();
    return structuredClone(sent);
  }

  outbox(): SentMail[] {
    return structuredClone(this.data.outbox);
  }

  clearOutbox(): void {
    this.data.outbox = [];
    this.persist();
  }

  private persist(): void {
    if (!this.dataFile) return;
    mkdirSync(dirname(this.dataFile), { recursive: true });
    // Write then rename, so a crash mid-write leaves the previous state rather than half a file.
    const temporary = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.data, null, 2) + '\n');
    renameSync(temporary, this.dataFile);
  }
}

function readDataFile(path: string): GraphData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GraphDataFileError(
      `Graph simulator data file '${path}' is not readable JSON (${err instanceof Error ? err.message : String(err)}). ` +
        'Fix or delete it to start from the seed.',
    );
  }
  const fail = (what: string): never => {
    throw new GraphDataFileError(
      `Graph simulator data file '${path}': ${what}. Fix or delete it to start from the seed.`,
    );
  };
  if (!isRecord(parsed)) return fail('the top level must be an object');
  const organization = isRecord(parsed.organization)
    ? readOrganization(parsed.organization, fail)
    : emptyDirectory().organization;
  if (!Array.isArray(parsed.users)) return fail("'users' must be an array");
  const users = parsed.users.map((u, i) => readUser(u, `users[${i}]`, fail));
  const outbox = parsed.outbox === undefined ? [] : parsed.outbox;
  // The outbox and the messages are only ever written by the simulator itself, so their shape is
  // trusted once they are lists.
  if (!Array.isArray(outbox)) return fail("'outbox' must be an array when present");
  const messages = parsed.messages === undefined ? [] : parsed.messages;
  if (!Array.isArray(messages)) return fail("'messages' must be an array when present");
  return { organization, users, outbox: outbox as SentMail[], messages: messages as StoredMessage[] };
}

type Fail = (what: string) => never;

// Users in a hand-written data file may give only what matters to them; the rest is Graph's "unset".
function readUser(raw: unknown, where: string, fail: Fail): GraphUser {
  if (!isRecord(raw)) return fail(`${where} must be an object`);
  const id = raw.id;
  const upn = raw.userPrincipalName;
  if (typeof id !== 'string' || id === '') return fail(`${where}.id must be a non-empty string`);
  if (typeof upn !== 'string' || upn === '')
    return fail(`${where}.userPrincipalName must be a non-empty string`);
  const text = (name: string): string | null => {
    const value = raw[name];
    if (value === undefined || value === null) return null;
    return typeof value === 'string' ? value : fail(`${where}.${name} must be a string or null`);
  };
  const phones = raw.businessPhones ?? [];
  if (!Array.isArray(phones) || !phones.every((p) => typeof p === 'string')) {
    return fail(`${where}.businessPhones must be an array of strings`);
  }
  const user: GraphUser = {
    id,
    displayName: text('displayName'),
    givenName: text('givenName'),
    surname: text('surname'),
    mail: text('mail'),
    userPrincipalName: upn,
    jobTitle: text('jobTitle'),
    mobilePhone: text('mobilePhone'),
    businessPhones: phones as string[],
    officeLocation: text('officeLocation'),
    preferredLanguage: text('preferredLanguage'),
  };
  for (const name of [
    'department',
    'companyName',
    'mailNickname',
    'usageLocation',
    'userType',
    'createdDateTime',
  ] as const) {
    if (raw[name] !== undefined) user[name] = text(name);
  }
  if (raw.accountEnabled !== undefined) {
    if (typeof raw.accountEnabled !== 'boolean') return fail(`${where}.accountEnabled must be a boolean`);
    user.accountEnabled = raw.accountEnabled;
  }
  return user;
}

function readOrganization(raw: Record<string, unknown>, fail: Fail): Organization {
  const base = emptyDirectory().organization;
  if (typeof raw.id !== 'string' || typeof raw.displayName !== 'string') {
    return fail("'organization' needs a string id and displayName");
  }
  if (raw.verifiedDomains !== undefined && !Array.isArray(raw.verifiedDomains)) {
    return fail("'organization.verifiedDomains' must be an array");
  }
  // Merged over the defaults so a partial organization still serves every property Graph has.
  return { ...base, ...(raw as Partial<Organization>), id: raw.id, displayName: raw.displayName };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
