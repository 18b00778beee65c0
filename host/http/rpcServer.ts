/**
 * The endpoint the app's own `DurableClient` calls (the binding's `rpcBaseUrl`). It exists only for
 * code inside this process, so it gets its own listener on 127.0.0.1 with an OS-assigned port, and
 * its base path carries a per-process random token that is handed out only inside the durable client
 * binding. A request must name that token, say `Host: 127.0.0.1:<port>` (a rebinding DNS name or a
 * proxy forwarding its own Host cannot), carry no browser `Origin`/`Sec-Fetch-*` header, and send
 * JSON (a cross-site "simple" request cannot). It never answers on the public listener, never
 * builds a URL from request headers, and never logs the token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableApi, DurableUrls } from '../durable/api';
import { BodyTooLarge, ClientAborted, hasBody, readBody } from './body';
import { answerDurable } from './durableAnswer';
import { sendError } from './respond';

export const RPC_PATH = '/durabletask';

export interface RpcServerOptions {
  durableApi: DurableApi;
  /** The management URLs answers carry: from the host's configured public base URL. */
  urls: () => DurableUrls;
  maxBodyBytes: number;
  log: (level: 'debug' | 'error', message: string) => void;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function tokensEqual(presented: string, token: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class DurableRpcServer {
  /** Also hidden from logs by the host's redactor. */
  readonly token = randomBytes(24).toString('base64url');
  private readonly server: http.Server;
  private port = 0;

  constructor(private readonly options: RpcServerOptions) {
    this.server = http.createServer((req, res) => {
      req.on('error', () => undefined);
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof ClientAborted) return;
        options.log(
          'error',
          `Durable rpc request failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        if (!res.headersSent)
          sendError(res, 500, 'INTERNAL_ERROR', 'The host failed to process the request.');
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}${RPC_PATH}/${this.token}/`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.headers.host !== `127.0.0.1:${this.port}`) {
      sendError(
        res,
        403,
        'HOST_NOT_ALLOWED',
        'The durable rpc endpoint answers only to its own loopback address.',
      );
      return;
    }
    if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
      sendError(res, 403, 'FORBIDDEN', 'The durable rpc endpoint does not answer browsers.');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const prefix = `${RPC_PATH}/`;
    const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : '';
    const slash = rest.indexOf('/');
    if (slash < 0 || !tokensEqual(rest.slice(0, slash), this.token)) {
      sendError(res, 404, 'NOT_FOUND', 'Not found.');
      return;
    }
    if (hasBody(req) && !JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      sendError(
        res,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'The durable rpc endpoint takes application/json bodies only.',
      );
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', err.message);
      return;
    }
    await answerDurable(this.options.durableApi, req, res, {
      path: rest.slice(slash + 1),
      query: url.searchParams,
      body,
      url: `${this.baseUrl}${rest.slice(slash + 1)}${url.search}`,
      urls: this.options.urls(),
    });
  }
}
