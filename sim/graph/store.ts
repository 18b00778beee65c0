/**
 * The Graph simulator's state: the directory (organization and users) and the outbox of accepted
 * mail, in memory and, when given a data file, written through to JSON after every change so a
 * restarted simulator carries on where it stopped. Must never hand out its own records for
 * mutation (callers get copies) and never start from a data file it could not fully read.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GraphUser, Organization, SentMail } from './model';
import { demoDirectory, emptyDirectory, type GraphSeedName } from './seed';

interface GraphData {
  organization: Organization;
  users: GraphUser[];
  outbox: SentMail[];
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
    const store = new GraphStore({ ...directory, outbox: [] }, dataFile);
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
  // The outbox is only ever written by the simulator itself, so its shape is trusted once it is a list.
  if (!Array.isArray(outbox)) return fail("'outbox' must be an array when present");
  return { organization, users, outbox: outbox as SentMail[] };
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
