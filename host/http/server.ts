/**
 * The local host's HTTP front door: HTTP-triggered functions under the route prefix (with route
 * templates, methods and key checks), the Durable extension's webhooks and rpc endpoints, and
 * /admin/host/status. Errors it produces itself carry a machine-readable code and a message.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableApi, DurableUrls } from '../durable/api';
import type { IndexedFunction } from '../durable/functionIndex';
import type { WorkerCore } from '../worker/coreApi';
import { invokeHttpFunction } from './httpTrigger';
import { AuthLevel, HostKeys, presentedKey } from './keys';
import { RouteTable, splitRoutePrefix } from './routes';

export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask';
export const RPC_PREFIX = '/durabletask';

export interface HttpServerOptions {
  core: WorkerCore;
  httpFunctions: IndexedFunction[];
  routePrefix: string;
  keys: HostKeys;
  /** The key the durable management URLs carry. */
  systemKey: string;
  hubName: string;
  durableApi: DurableApi;
  maxBodyBytes?: number;
  log: (level: 'information' | 'warning' | 'error', message: string) => void;
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    ...headers,
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { code, message });
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1');
}

export class HostHttpServer {
  readonly server: http.Server;
  private readonly routes = new RouteTable();
  private readonly byName = new Map<string, IndexedFunction>();
  private port = 0;

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
    this.server = http.createServer((req, res) => {
      this.dispatch(req, res).catch((err: unknown) => {
        options.log(
          'error',
          `Unhandled error serving ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`,
        );
        if (!res.headersSent)
          sendError(res, 500, 'INTERNAL_ERROR', 'The host failed to process the request.');
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 65_000;
  }

  async listen(port: number, hostname: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** URLs the durable client hands out, based on how the caller reached us. */
  durableUrls(origin: string): DurableUrls {
    const code = `code=${encodeURIComponent(this.options.systemKey)}`;
    return {
      webhookBase: `${origin}${WEBHOOK_PREFIX}`,
      managementQuery: `taskHub=${encodeURIComponent(this.options.hubName)}&connection=Storage&${code}`,
      creationQuery: code,
    };
  }

  get rpcBaseUrl(): string {
    return `http://127.0.0.1:${this.port}${RPC_PREFIX}/`;
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origin = `http://${req.headers.host ?? `127.0.0.1:${this.port}`}`;
    const url = new URL(req.url ?? '/', origin);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;

    if (path === '/admin/host/status') {
      sendJson(res, 200, { state: 'Running' });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes ?? 100 * 1024 * 1024);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than the host accepts.');
        return;
      }
      throw err;
    }

    const durablePrefix = path.startsWith(`${WEBHOOK_PREFIX}/`)
      ? WEBHOOK_PREFIX
      : path.startsWith(`${RPC_PREFIX}/`)
        ? RPC_PREFIX
        : undefined;
    if (durablePrefix) {
      if (durablePrefix === RPC_PREFIX && !isLoopback(req.socket.remoteAddress)) {
        sendError(res, 403, 'FORBIDDEN', 'The durable rpc endpoint only answers on loopback.');
        return;
      }
      if (durablePrefix === WEBHOOK_PREFIX) {
        const key = presentedKey({ get: (n) => req.headers[n] as string | undefined }, url.searchParams);
        const ok =
          key !== undefined &&
          (key === this.options.systemKey || this.options.keys.authorize('admin', '', key));
        if (!ok) {
          sendError(
            res,
            401,
            'UNAUTHORIZED',
            'A valid system key (code) is required for the durable task webhooks.',
          );
          return;
        }
      }
      const answer = await this.options.durableApi.handle(
        {
          method,
          path: path.slice(durablePrefix.length + 1),
          query: url.searchParams,
          contentType: req.headers['content-type'],
          continuationToken: req.headers['x-ms-continuation-token'] as string | undefined,
          body,
          url: url.toString(),
        },
        this.durableUrls(origin),
      );
      sendJson(res, answer.status, answer.body, answer.headers);
      return;
    }

    const routePath = splitRoutePrefix(path, this.options.routePrefix);
    if (routePath === undefined) {
      sendError(res, 404, 'NOT_FOUND', `No function is registered for ${path}.`);
      return;
    }
    const match = this.routes.match(method, routePath);
    if ('error' in match) {
      if (match.error === 'method-not-allowed') {
        res.setHeader('Allow', match.allowed.join(', '));
        sendError(
          res,
          405,
          'METHOD_NOT_ALLOWED',
          `${method} is not allowed here; use ${match.allowed.join(', ')}.`,
        );
      } else sendError(res, 404, 'NOT_FOUND', `No function is registered for ${path}.`);
      return;
    }
    const fn = this.byName.get(match.functionName) as IndexedFunction;
    const level = ((fn.trigger.authLevel as string | undefined) ?? 'anonymous').toLowerCase() as AuthLevel;
    const key = presentedKey({ get: (n) => req.headers[n] as string | undefined }, url.searchParams);
    if (!this.options.keys.authorize(level, fn.name, key)) {
      sendError(
        res,
        401,
        'UNAUTHORIZED',
        `This function requires a ${level} key (x-functions-key header or code query parameter).`,
      );
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let out;
    try {
      out = await invokeHttpFunction(
        this.options.core,
        fn.fn,
        fn.triggerKey,
        { method, url: url.toString(), headers, params: match.params, body },
        () => this.clientBinding(origin),
      );
    } catch (err) {
      this.options.log(
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

  clientBinding(origin: string): Record<string, unknown> {
    return this.clientBindingFactory(this.durableUrls(origin));
  }

  clientBindingFactory: (urls: DurableUrls) => Record<string, unknown> = () => ({});
}
