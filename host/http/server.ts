/**
 * The local host's public HTTP front door: HTTP-triggered functions under the route prefix (route
 * templates, methods, key checks), the Durable extension's management webhooks, and
 * /admin/host/status. The rpc endpoint the app's DurableClient calls is not here: it has its own
 * loopback listener (rpcServer.ts).
 *
 * Order of checks, so that a stranger costs the host nothing: Host header, route, method, key, then
 * the declared length, and only then the body, read up to its limit (or, for an app with HTTP
 * streams, forwarded to the app's own server as it arrives, up to the same limit). Every line it logs about a
 * request goes through the redactor; it never builds a URL holding a key from request headers.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableApi, DurableUrls } from '../durable/api';
import type { IndexedFunction } from '../durable/functionIndex';
import type { WorkerCore } from '../worker/coreApi';
import { ADMIN_FUNCTIONS_PREFIX, type AdminInvoker, invokeByAdmin } from './adminFunctions';
import { BodyTooLarge, ClientAborted, checkDeclaredLength, readBody } from './body';
import { hostAllowed, parseHostHeader } from './hostHeader';
import { invokeHttpFunction } from './httpTrigger';
import { invokeStreamedHttpFunction } from './streamTrigger';
import { forwardToWorker, workerStreamUri } from './workerProxy';
import { answerDurable } from './durableAnswer';
import { AuthLevel, HostKeys, keyMatchesAny, presentedKey } from './keys';
import { secretRedactor } from './redact';
import { sendError, sendJson } from './respond';
import { RouteTable, splitRoutePrefix } from './routes';
import { DurableRpcServer } from './rpcServer';

export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask';

export type HttpLogLevel = 'debug' | 'information' | 'warning' | 'error';

export interface HttpServerOptions {
  core: WorkerCore;
  httpFunctions: IndexedFunction[];
  routePrefix: string;
  keys: HostKeys;
  /** The key the durable management URLs carry. */
  systemKey: string;
  hubName: string;
  durableApi: DurableApi;
  /** Largest body an HTTP-triggered function receives. */
  maxBodyBytes: number;
  /** Largest body the durable webhooks and the rpc endpoint accept. */
  durableMaxBodyBytes: number;
  /**
   * The public name a same-machine reverse proxy forwards in Host (WEBSITE_HOSTNAME); with it, durable
   * URLs are built on `https://<name>`, else on `http://localhost:<port>`.
   */
  publicHostName?: string;
  /** Runs non-HTTP functions for `POST /admin/functions/{name}`. */
  adminInvoker?: AdminInvoker;
  log: (level: HttpLogLevel, message: string) => void;
}

class Refused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The path and query of the request target; absolute-form targets (from proxies) keep only those. */
function requestTarget(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.startsWith('/')) return raw.startsWith('//') ? undefined : raw;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? `${url.pathname}${url.search}` : undefined;
  } catch {
    return undefined;
  }
}

export class HostHttpServer {
  readonly server: http.Server;
  private readonly rpc: DurableRpcServer;
  private readonly routes = new RouteTable();
  private readonly byName = new Map<string, IndexedFunction>();
  private readonly redact: (text: string) => string;
  private readonly publicName: string | undefined;
  private port = 0;
  private bindAddress = '127.0.0.1';
  /** The app's own HTTP server when it enabled HTTP streams (its `HttpUri` capability). */
  private readonly workerUri: URL | undefined;
  private readonly workerAgent = new http.Agent({ keepAlive: true });

  constructor(private readonly options: HttpServerOptions) {
    for (const f of options.httpFunctions) {
      const methods = (f.trigger.methods as string[] | undefined) ?? ['GET', 'POST'];
      this.routes.add({
        functionName: f.name,
        template: (f.trigger.route as string | undefined) ?? f.name,
        methods,
      });
      this.byName.set(f.name, f);
    }
    this.rpc = new DurableRpcServer({
      durableApi: options.durableApi,
      urls: () => this.durableUrls(),
      maxBodyBytes: options.durableMaxBodyBytes,
      log: (level, message) => this.log(level, message),
    });
    this.workerUri = workerStreamUri(options.core.capabilities);
    this.publicName = options.publicHostName ? parseHostHeader(options.publicHostName)?.name : undefined;
    const { keys } = options;
    this.redact = secretRedactor([
      keys.masterKey,
      ...Object.values(keys.functionKeys),
      options.systemKey,
      this.rpc.token,
    ]);
    const serve = (req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): void => {
      // An aborted request emits 'error'; every path below notices the abort on its own.
      req.on('error', () => undefined);
      this.dispatch(req, res, expectsContinue).catch((err: unknown) => this.failed(req, res, err));
    };
    this.server = http.createServer((req, res) => serve(req, res, false));
    // Answer `Expect: 100-continue` only once the request has passed every check but the body.
    this.server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) =>
      serve(req, res, true),
    );
    this.server.keepAliveTimeout = 65_000;
  }

  async listen(port: number, hostname: string): Promise<number> {
    await this.rpc.listen();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.bindAddress = hostname;
    return this.port;
  }

  async close(): Promise<void> {
    await Promise.all([
      new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      }),
      this.rpc.close(),
    ]);
    this.workerAgent.destroy();
  }

  /** Where the app's DurableClient sends its calls: the private loopback listener. */
  get rpcBaseUrl(): string {
    return this.rpc.baseUrl;
  }

  /** The origin durable URLs are built on: configured, never taken from a request. */
  get publicOrigin(): string {
    const name = this.options.publicHostName;
    return name ? `https://${name}` : `http://localhost:${this.port}`;
  }

  /** URLs the durable client hands out. */
  durableUrls(): DurableUrls {
    const code = `code=${encodeURIComponent(this.options.systemKey)}`;
    return {
      webhookBase: `${this.publicOrigin}${WEBHOOK_PREFIX}`,
      managementQuery: `taskHub=${encodeURIComponent(this.options.hubName)}&connection=Storage&${code}`,
      creationQuery: code,
    };
  }

  clientBinding(): Record<string, unknown> {
    return this.clientBindingFactory(this.durableUrls());
  }

  clientBindingFactory: (urls: DurableUrls) => Record<string, unknown> = () => ({});

  private log(level: HttpLogLevel, message: string): void {
    this.options.log(level, this.redact(message));
  }

  private failed(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
    const what = `${req.method} ${req.url}`;
    if (err instanceof ClientAborted) {
      this.log('debug', `Client closed the connection during ${what}.`);
      res.destroy();
      return;
    }
    this.log('error', `Unhandled error serving ${what}: ${err instanceof Error ? err.stack : String(err)}`);
    if (!res.headersSent) sendError(res, 500, 'INTERNAL_ERROR', 'The host failed to process the request.');
    else res.destroy();
  }

  /**
   * The last check before a body byte is read: the declared length. Only then is a client that
   * asked `Expect: 100-continue` told to send its body.
   */
  private admitBody(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    limit: number,
    expectsContinue: boolean,
  ): void {
    try {
      checkDeclaredLength(req, limit);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new Refused(413, 'PAYLOAD_TOO_LARGE', err.message);
      throw err;
    }
    if (expectsContinue) res.writeContinue();
  }

  /** The body, once every other check has passed; a Refused (413) when it is over `limit`. */
  private async body(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    limit: number,
    expectsContinue: boolean,
  ): Promise<Buffer> {
    this.admitBody(req, res, limit, expectsContinue);
    try {
      return await readBody(req, limit);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new Refused(413, 'PAYLOAD_TOO_LARGE', err.message);
      throw err;
    }
  }

  private async dispatch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    expectsContinue: boolean,
  ): Promise<void> {
    try {
      await this.route(req, res, expectsContinue);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      sendError(res, err.status, err.code, err.message);
    }
  }

  private async route(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    expectsContinue: boolean,
  ): Promise<void> {
    const host = parseHostHeader(req.headers.host);
    if (!host) throw new Refused(400, 'INVALID_HOST', 'The Host header is missing or malformed.');
    if (!hostAllowed(host, this.bindAddress, this.publicName)) {
      throw new Refused(403, 'HOST_NOT_ALLOWED', `This host does not answer to the name '${host.name}'.`);
    }
    const target = requestTarget(req.url);
    if (!target) throw new Refused(400, 'INVALID_URL', 'The request target is not a valid path.');
    const url = new URL(`http://${host.authority}${target}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;

    if (path === '/admin/host/status') {
      sendJson(res, 200, { state: 'Running' });
      return;
    }
    if (path.startsWith(ADMIN_FUNCTIONS_PREFIX)) {
      await this.adminInvoke(req, res, url, method, expectsContinue);
      return;
    }
    if (path.startsWith(`${WEBHOOK_PREFIX}/`)) {
      await this.webhook(req, res, url, expectsContinue);
      return;
    }

    const routePath = splitRoutePrefix(path, this.options.routePrefix);
    const match = routePath === undefined ? undefined : this.routes.match(method, routePath);
    if (!match || ('error' in match && match.error === 'not-found')) {
      throw new Refused(404, 'NOT_FOUND', `No function is registered for ${path}.`);
    }
    if ('error' in match) {
      res.setHeader('Allow', match.allowed.join(', '));
      throw new Refused(
        405,
        'METHOD_NOT_ALLOWED',
        `${method} is not allowed here; use ${match.allowed.join(', ')}.`,
      );
    }
    const fn = this.byName.get(match.functionName) as IndexedFunction;
    const level = ((fn.trigger.authLevel as string | undefined) ?? 'anonymous').toLowerCase() as AuthLevel;
    const key = presentedKey({ get: (n) => req.headers[n] as string | undefined }, url.searchParams);
    if (!this.options.keys.authorize(level, fn.name, key)) {
      throw new Refused(
        401,
        'UNAUTHORIZED',
        `This function requires a ${level} key (x-functions-key header or code query parameter).`,
      );
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    if (this.workerUri) {
      this.admitBody(req, res, this.options.maxBodyBytes, expectsContinue);
      await this.streamed(req, res, fn, { url, target, headers, params: match.params });
      return;
    }
    const body = await this.body(req, res, this.options.maxBodyBytes, expectsContinue);
    let out;
    try {
      out = await invokeHttpFunction(
        this.options.core,
        fn.fn,
        fn.triggerKey,
        { method, url: url.toString(), headers, params: match.params, body },
        () => this.clientBinding(),
      );
    } catch (err) {
      this.log(
        'error',
        `Executed 'Functions.${fn.name}' (Failed): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      sendError(res, 500, 'FUNCTION_FAILED', `The function '${fn.name}' failed.`);
      return;
    }
    res.statusCode = out.status;
    for (const [k, v] of out.headers) res.appendHeader(k, v);
    res.end(out.body);
  }

  /** An app with HTTP streams: the request goes to the app's own server as it arrives (workerProxy.ts). */
  private async streamed(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    fn: IndexedFunction,
    call: { url: URL; target: string; headers: Record<string, string>; params: Record<string, string> },
  ): Promise<void> {
    const invocationId = randomUUID();
    await forwardToWorker({
      req,
      res,
      workerUri: this.workerUri as URL,
      agent: this.workerAgent,
      target: call.target,
      invocationId,
      functionName: fn.name,
      forwardedHost: call.url.host,
      limit: this.options.maxBodyBytes,
      invoke: async () => {
        const outcome = await invokeStreamedHttpFunction(
          this.options.core,
          fn.fn,
          fn.triggerKey,
          { invocationId, url: call.url.toString(), headers: call.headers, params: call.params },
          () => this.clientBinding(),
        );
        return { responded: outcome.responded };
      },
      failed: (err) =>
        this.log(
          'error',
          `Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        ),
      unreachable: (err) =>
        this.log(
          'error',
          `The app's HTTP stream server (${this.workerUri?.origin ?? ''}) failed for 'Functions.${fn.name}': ${String(err)}`,
        ),
    });
  }

  private async adminInvoke(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    method: string,
    expectsContinue: boolean,
  ): Promise<void> {
    const rest = url.pathname.slice(ADMIN_FUNCTIONS_PREFIX.length);
    const invoker = this.options.adminInvoker;
    if (!invoker || rest === '' || rest.includes('/'))
      throw new Refused(404, 'NOT_FOUND', `No admin route matches ${url.pathname}.`);
    if (method !== 'POST') {
      res.setHeader('Allow', 'POST');
      throw new Refused(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use POST.`);
    }
    const key = presentedKey({ get: (n) => req.headers[n] as string | undefined }, url.searchParams);
    if (!keyMatchesAny(key, [this.options.keys.masterKey]))
      throw new Refused(
        401,
        'UNAUTHORIZED',
        'The admin API requires the master key (x-functions-key header).',
      );
    const body = await this.body(req, res, this.options.maxBodyBytes, expectsContinue);
    let name: string;
    try {
      name = decodeURIComponent(rest);
    } catch {
      throw new Refused(400, 'INVALID_URL', 'The function name is not valid percent-encoding.');
    }
    const answer = invokeByAdmin(invoker, name, body);
    if (answer.status === 202) sendJson(res, 202, undefined);
    else sendError(res, answer.status, answer.code, answer.message);
  }

  private async webhook(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    expectsContinue: boolean,
  ): Promise<void> {
    const key = presentedKey({ get: (n) => req.headers[n] as string | undefined }, url.searchParams);
    if (!keyMatchesAny(key, [this.options.systemKey, this.options.keys.masterKey])) {
      throw new Refused(
        401,
        'UNAUTHORIZED',
        'A valid system key (code) is required for the durable task webhooks.',
      );
    }
    const body = await this.body(req, res, this.options.durableMaxBodyBytes, expectsContinue);
    await answerDurable(this.options.durableApi, req, res, {
      path: url.pathname.slice(WEBHOOK_PREFIX.length + 1),
      query: url.searchParams,
      body,
      url: `${this.publicOrigin}${url.pathname}${url.search}`,
      urls: this.durableUrls(),
    });
  }
}
