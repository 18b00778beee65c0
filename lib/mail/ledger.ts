/**
 * The mail ledger: one Blob document per mail key (`mail/<key>.json`) that says whether the mail
 * went out, and which attempt holds it while it is being sent. Holding is a lease: it carries its
 * holder and an expiry, is renewed by every write of its holder, and is taken over only once it has
 * lapsed. Every write is conditional on the etag the writer read, so of two attempts at most one
 * holds a key at a time, and one that lost its lease finds out at its next write. It never talks
 * to Graph and never decides what to send.
 */
import { CodedError } from '../errors/codedError';
import { BlobConflictError, type JsonBlobs } from '../storage/jsonBlobs';

export interface LedgerEntry {
  state: 'sending' | 'sent' | 'failed';
  to: string;
  subject: string;
  /** When the state was last written. */
  at: string;
  /** The attempt holding the key while `sending`, and until when its lease runs. */
  holder?: string;
  leaseUntil?: string;
  /** The Graph draft that carries the mail, once created: the mail is sent only by sending it. */
  draftId?: string;
  internetMessageId?: string;
  error?: string;
}

/** The key held by this attempt: the entry as written and its etag, for the next conditional write. */
export interface Held {
  key: string;
  entry: LedgerEntry;
  etag: string;
  /** The key was taken over from an attempt whose lease had lapsed, or which had failed. */
  takenOver: boolean;
}

export type Claim =
  | { kind: 'held'; held: Held }
  | { kind: 'sent'; entry: LedgerEntry }
  /** Another attempt holds the key until `until` (ms since the epoch). */
  | { kind: 'busy'; until: number };

export class MailLedgerError extends CodedError<'MAIL_IN_PROGRESS'> {
  override readonly name = 'MailLedgerError';
}

export interface LedgerOptions {
  leaseMs: number;
  now?: () => number;
}

const entryName = (key: string): string => `mail/${key}.json`;

export class MailLedger {
  private readonly now: () => number;

  constructor(
    private readonly blobs: JsonBlobs,
    private readonly options: LedgerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async read(key: string): Promise<LedgerEntry | undefined> {
    return (await this.blobs.get<LedgerEntry>(entryName(key)))?.value;
  }

  /**
   * Claims `key` for `holder`: a new key, a failed one, or one whose lease has lapsed. A sent key is
   * `sent`; one another attempt holds is `busy`. The draft of an earlier attempt stays recorded, so
   * the new holder sends that draft instead of making another.
   */
  async claim(key: string, mail: { to: string; subject: string }, holder: string): Promise<Claim> {
    const name = entryName(key);
    const existing = await this.blobs.get<LedgerEntry>(name);
    if (existing?.value.state === 'sent') return { kind: 'sent', entry: existing.value };
    if (existing?.value.state === 'sending') {
      const until = Date.parse(existing.value.leaseUntil ?? '') || 0;
      if (until > this.now()) return { kind: 'busy', until };
    }
    const entry: LedgerEntry = {
      ...(existing?.value.draftId
        ? { draftId: existing.value.draftId, internetMessageId: existing.value.internetMessageId }
        : {}),
      ...this.lease(holder),
      state: 'sending',
      to: mail.to,
      subject: mail.subject,
    };
    try {
      const etag = existing
        ? await this.blobs.put(name, entry, { ifMatch: existing.etag })
        : await this.blobs.put(name, entry, { ifNoneMatch: '*' });
      return { kind: 'held', held: { key, entry, etag, takenOver: existing !== undefined } };
    } catch (err) {
      if (!(err instanceof BlobConflictError)) throw err;
      // Another attempt wrote in between: it holds the key now.
      return { kind: 'busy', until: this.now() + this.options.leaseMs };
    }
  }

  /**
   * Writes `change` over the held entry, renewing the lease while it stays `sending`. A write
   * refused because the entry changed means the lease was lost: MAIL_IN_PROGRESS, and the caller
   * must not send.
   */
  async update(held: Held, change: Partial<LedgerEntry>): Promise<Held> {
    const base = { ...held.entry, ...change };
    const entry: LedgerEntry =
      base.state === 'sending'
        ? { ...base, ...this.lease(String(held.entry.holder)) }
        : { ...withoutLease(base), at: new Date(this.now()).toISOString() };
    try {
      const etag = await this.blobs.put(entryName(held.key), entry, { ifMatch: held.etag });
      return { ...held, entry, etag };
    } catch (err) {
      if (!(err instanceof BlobConflictError)) throw err;
      throw new MailLedgerError(
        'MAIL_IN_PROGRESS',
        `Mail ${held.key} was taken over by another attempt after this one's lease lapsed; that attempt sends it.`,
      );
    }
  }

  private lease(holder: string): Pick<LedgerEntry, 'holder' | 'leaseUntil' | 'at'> {
    const now = this.now();
    return {
      holder,
      leaseUntil: new Date(now + this.options.leaseMs).toISOString(),
      at: new Date(now).toISOString(),
    };
  }
}

function withoutLease(entry: LedgerEntry): LedgerEntry {
  const rest = { ...entry };
  delete rest.holder;
  delete rest.leaseUntil;
  return rest;
}
