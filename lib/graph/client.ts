/**
 * A Microsoft Graph (v1.0) client in the Azure SDK style, wrapping @microsoft/microsoft-graph-client:
 * built from a base URL and a TokenCredential, every method takes an options bag with an abort
 * signal, failures are typed GraphServiceErrors, and lists are async iterators that can also page.
 * Throttling (429/503/504) is retried a few times by the library's RetryHandler, honouring
 * Retry-After; what still fails is a GraphServiceError that says whether it is transient.
 * It never reads process.env and knows nothing about simulators: a non-Graph base URL is just a
 * custom host the token may be sent to, and transport tweaks come in through `fetchOptions`.
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  Client,
  GraphError,
  type AuthenticationProvider,
  RetryHandlerOptions,
  type FetchOptions,
} from '@microsoft/microsoft-graph-client';
import { retryAfterMs } from '../errors/transient';
import { recordDependency } from '../telemetry';
import { GraphServiceError } from './errors';
import type { GraphUser, MailMessage, MailboxMessage, Organization } from './types';

/** The resource tokens are requested for, whatever the base URL (a national cloud or a stand-in). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

const GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'graph.microsoft.de',
  'microsoftgraph.chinacloudapi.cn',
  'canary.graph.microsoft.com',
]);

export interface GraphClientOptions {
  /** API version path segment; default v1.0. */
  apiVersion?: string;
  /** Scope asked of the credential; default https://graph.microsoft.com/.default. */
  scope?: string;
  /** Passed to every fetch (e.g. a `dispatcher` with extra trusted CAs). */
  fetchOptions?: FetchOptions;
  /**
   * Attempts after the first for throttling inside one call (the library's RetryHandler; default 3,
   * at most 10). A caller that can wait longer (a saga step) does so on its own once these run out.
   */
  maxRetries?: number;
}

export interface CallOptions {
  abortSignal?: AbortSignal;
}

export interface SendMailOptions extends CallOptions {
  /** Keep a copy in the sender's Sent Items (default true, as in Graph). */
  saveToSentItems?: boolean;
}

export interface ListUsersOptions extends CallOptions {
  select?: string[];
  filter?: string;
  /** Users per page ($top). */
  pageSize?: number;
}

export interface UserPage {
  users: GraphUser[];
  nextLink?: string;
}

export interface PagedIterator<T, P> extends AsyncIterableIterator<T> {
  byPage(): AsyncIterableIterator<P>;
}

class CredentialAuthProvider implements AuthenticationProvider {
  constructor(
    private readonly credential: TokenCredential,
    private readonly scope: string,
  ) {}

  async getAccessToken(): Promise<string> {
    const token = await this.credential.getToken(this.scope);
    if (!token) throw new GraphServiceError('The credential returned no token for Graph.', 401, 'NO_TOKEN');
    return token.token;
  }
}

export class GraphClient {
  readonly baseUrl: string;
  private readonly client: Client;
  private readonly scope: string;
  private readonly version: string;
  private readonly retryOptions?: RetryHandlerOptions;

  constructor(
    baseUrl: string,
    private readonly credential: TokenCredential,
    options: GraphClientOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.scope = options.scope ?? GRAPH_SCOPE;
    this.version = options.apiVersion ?? 'v1.0';
    const host = new URL(this.baseUrl).hostname;
    this.client = Client.initWithMiddleware({
      authProvider: new CredentialAuthProvider(credential, this.scope),
      baseUrl: `${this.baseUrl}/`,
      defaultVersion: this.version,
      // The library sends the token only to Graph's own hosts and the ones listed here.
      customHosts: GRAPH_HOSTS.has(host) ? undefined : new Set([host]),
      fetchOptions: options.fetchOptions,
    });
    if (options.maxRetries !== undefined)
      this.retryOptions = new RetryHandlerOptions(undefined, options.maxRetries);
  }

  /** Gets a token for Graph (what the app would use next); for health checks. */
  async getToken(options: CallOptions = {}): Promise<{ expiresOn: string }> {
    const token = await this.credential.getToken(this.scope, { abortSignal: options.abortSignal });
    if (!token) throw new GraphServiceError('The credential returned no token for Graph.', 401, 'NO_TOKEN');
    return { expiresOn: new Date(token.expiresOnTimestamp).toISOString() };
  }

  /** Sends a message as `from` (a user id or userPrincipalName); Graph answers 202 once it has accepted it. */
  async sendMail(from: string, message: MailMessage, options: SendMailOptions = {}): Promise<void> {
    await this.call('POST', `/users/${encodeURIComponent(from)}/sendMail`, options, (r) =>
      r.post({ message, saveToSentItems: options.saveToSentItems ?? true }),
    );
  }

  /**
   * Creates `message` as a draft in the Drafts folder of `from` (Graph answers 201 with it). Nothing
   * goes out until sendDraft; the draft's id is what makes a later send of it happen at most once.
   */
  async createDraft(from: string, message: MailMessage, options: CallOptions = {}): Promise<MailboxMessage> {
    return this.call(
      'POST',
      `/users/${encodeURIComponent(from)}/messages`,
      options,
      (r) => r.post(message) as Promise<MailboxMessage>,
    );
  }

  /** A message of the mailbox `from`, or undefined when it holds none with that id. */
  async tryGetMessage(
    from: string,
    id: string,
    options: CallOptions & { select?: string[] } = {},
  ): Promise<MailboxMessage | undefined> {
    try {
      return await this.call(
        'GET',
        `/users/${encodeURIComponent(from)}/messages/${encodeURIComponent(id)}`,
        options,
        (r) => {
          if (options.select?.length) r.select(options.select);
          return r.get() as Promise<MailboxMessage>;
        },
      );
    } catch (err) {
      if (err instanceof GraphServiceError && err.isNotFound) return undefined;
      throw err;
    }
  }

  /**
   * Sends a draft (202). Graph then removes the draft and keeps a copy with a new id in Sent Items,
   * so sending the same id again fails with 404 ErrorItemNotFound instead of sending it twice.
   */
  async sendDraft(from: string, id: string, options: CallOptions = {}): Promise<void> {
    await this.call(
      'POST',
      `/users/${encodeURIComponent(from)}/messages/${encodeURIComponent(id)}/send`,
      options,
      (r) => r.post(undefined),
    );
  }

  async getUser(idOrUpn: string, options: CallOptions & { select?: string[] } = {}): Promise<GraphUser> {
    return this.call('GET', `/users/${encodeURIComponent(idOrUpn)}`, options, (r) => {
      if (options.select?.length) r.select(options.select);
      return r.get() as Promise<GraphUser>;
    });
  }

  /** Like getUser, but undefined when there is no such user. */
  async tryGetUser(
    idOrUpn: string,
    options: CallOptions & { select?: string[] } = {},
  ): Promise<GraphUser | undefined> {
    try {
      return await this.getUser(idOrUpn, options);
    } catch (err) {
      if (err instanceof GraphServiceError && err.isNotFound) return undefined;
      throw err;
    }
  }

  /** The tenant's organization (Graph returns a one-element collection). */
  async organization(options: CallOptions = {}): Promise<Organization> {
    const body = await this.call(
      'GET',
      '/organization',
      options,
      (r) => r.get() as Promise<{ value: Organization[] }>,
    );
    const org = body.value[0];
    if (!org) throw new GraphServiceError('Graph returned no organization.', 404, 'NO_ORGANIZATION');
    return org;
  }

  /** All users, fetched page by page as they are consumed (`byPage()` for the pages). */
  listUsers(options: ListUsersOptions = {}): PagedIterator<GraphUser, UserPage> {
    const pages = (): AsyncIterableIterator<UserPage> => this.userPages(options);
    async function* users(): AsyncIterableIterator<GraphUser> {
      for await (const page of pages()) yield* page.users;
    }
    const iterator = users() as PagedIterator<GraphUser, UserPage>;
    iterator.byPage = pages;
    return iterator;
  }

  private async *userPages(options: ListUsersOptions): AsyncIterableIterator<UserPage> {
    let next: string | undefined = '/users';
    let first = true;
    while (next) {
      const path: string = next;
      const body = await this.call('GET', path, options, (r) => {
        if (first) {
          if (options.select?.length) r.select(options.select);
          if (options.filter) r.filter(options.filter);
          if (options.pageSize) r.top(options.pageSize);
        }
        return r.get() as Promise<{ value: GraphUser[]; '@odata.nextLink'?: string }>;
      });
      first = false;
      next = body['@odata.nextLink'];
      yield { users: body.value, nextLink: next };
    }
  }

  /** One request through the Graph client, with its errors turned into GraphServiceErrors. */
  private async call<T>(
    method: string,
    path: string,
    options: CallOptions,
    send: (request: ReturnType<Client['api']>) => Promise<T>,
  ): Promise<T> {
    const request = this.client.api(path);
    if (this.retryOptions) request.middlewareOptions([this.retryOptions]);
    if (options.abortSignal) request.option('signal', options.abortSignal);
    const started = performance.now();
    const record = (status: number, success: boolean): void =>
      recordDependency({
        service: 'Graph',
        method,
        url: path.startsWith('http') ? path : `${this.baseUrl}/${this.version}${path}`,
        durationMs: performance.now() - started,
        status,
        success,
      });
    try {
      const result = await send(request);
      // The library hides the status of a success; Graph answers 202 to a send, 201 to a create.
      record(successStatus(method, path), true);
      return result;
    } catch (err) {
      const failure = toServiceError(err, method, path);
      record(failure instanceof GraphServiceError ? failure.statusCode : 0, false);
      throw failure;
    }
  }
}

function successStatus(method: string, path: string): number {
  if (method !== 'POST') return 200;
  if (path.endsWith('/sendMail') || path.endsWith('/send')) return 202;
  return path.endsWith('/messages') ? 201 : 200;
}

function toServiceError(err: unknown, method: string, path: string): Error {
  if (err instanceof GraphServiceError) return err;
  const where = `${method} ${path.startsWith('http') ? new URL(path).pathname : path}`;
  if (err instanceof GraphError) {
    if (err.statusCode <= 0) {
      return new GraphServiceError(
        `Graph could not be reached (${where}): ${err.message || String(err.body)}`,
        0,
        'NO_RESPONSE',
      );
    }
    return new GraphServiceError(
      `${where} failed with ${err.statusCode}: ${err.message || err.code || 'no message'}`,
      err.statusCode,
      err.code ?? `HTTP_${err.statusCode}`,
      err.requestId ?? undefined,
      retryAfterMs(err.headers?.get('Retry-After') ?? null, Date.now()),
    );
  }
  if (err instanceof Error && err.name === 'AbortError') return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GraphServiceError(`Graph could not be reached (${where}): ${message}`, 0, 'NO_RESPONSE');
}
