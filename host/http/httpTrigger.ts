/**
 * Invokes an HTTP-triggered function the way the worker does: the request becomes the RPC HTTP
 * data the library turns into its own `HttpRequest`, durable client inputs get the extension's
 * binding value, and the function's `HttpResponse` comes back as status, headers, cookies and body.
 */
import type { RegisteredFunction, RpcTypedData, WorkerCore } from '../worker/coreApi';
import { invokeFunction } from '../worker/invoke';

export interface IncomingHttp {
  method: string;
  url: string;
  headers: Record<string, string>;
  params: Record<string, string>;
  body: Buffer;
}

export interface OutgoingHttp {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

interface RpcCookie {
  name?: string;
  value?: string;
  domain?: { value?: string } | null;
  path?: { value?: string } | null;
  expires?: { value?: { seconds?: number } } | null;
  secure?: { value?: boolean } | null;
  httpOnly?: { value?: boolean } | null;
  sameSite?: string;
  maxAge?: { value?: number } | null;
}

interface RpcHttpOut {
  statusCode?: string;
  headers?: Record<string, string>;
  cookies?: RpcCookie[];
  body?: RpcTypedData;
}

function cookieHeader(c: RpcCookie): string {
  const parts = [`${c.name ?? ''}=${c.value ?? ''}`];
  if (c.domain?.value) parts.push(`Domain=${c.domain.value}`);
  if (c.path?.value) parts.push(`Path=${c.path.value}`);
  if (c.expires?.value?.seconds !== undefined)
    parts.push(`Expires=${new Date(c.expires.value.seconds * 1000).toUTCString()}`);
  if (c.maxAge?.value !== undefined) parts.push(`Max-Age=${c.maxAge.value}`);
  if (c.secure?.value) parts.push('Secure');
  if (c.httpOnly?.value) parts.push('HttpOnly');
  if (c.sameSite === 'lax') parts.push('SameSite=Lax');
  else if (c.sameSite === 'strict') parts.push('SameSite=Strict');
  else if (c.sameSite === 'explicitNone') parts.push('SameSite=None');
  return parts.join('; ');
}

function bodyBytes(body: RpcTypedData | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  if (body.bytes) return Buffer.from(body.bytes);
  if (body.string !== undefined && body.string !== null) return Buffer.from(body.string, 'utf8');
  if (body.json !== undefined && body.json !== null) return Buffer.from(body.json, 'utf8');
  return Buffer.alloc(0);
}

/** The `durableClient` input bindings of any function, filled with the extension's binding value. */
export function durableClientInputs(
  fn: RegisteredFunction,
  triggerKey: string,
  durableClientValue: () => Record<string, unknown>,
): { name: string; data: RpcTypedData }[] {
  const inputs: { name: string; data: RpcTypedData }[] = [];
  for (const [key, binding] of Object.entries(fn.metadata.bindings)) {
    if (binding.direction !== 'in' || key === triggerKey) continue;
    const type = String(binding.type).toLowerCase();
    if (type === 'durableclient' || type === 'orchestrationclient') {
      inputs.push({ name: key, data: { string: JSON.stringify(durableClientValue()) } });
    }
  }
  return inputs;
}

export async function invokeHttpFunction(
  core: WorkerCore,
  fn: RegisteredFunction,
  triggerKey: string,
  request: IncomingHttp,
  durableClientValue: () => Record<string, unknown>,
): Promise<OutgoingHttp> {
  const url = new URL(request.url);
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const inputData: { name: string; data: RpcTypedData }[] = [
    {
      name: triggerKey,
      data: {
        http: {
          method: request.method,
          url: request.url,
          headers: request.headers,
          query,
          params: request.params,
          body: request.body.length ? { bytes: request.body } : undefined,
        },
      },
    },
  ];
  inputData.push(...durableClientInputs(fn, triggerKey, durableClientValue));
  const result = await invokeFunction(core, fn, { inputData });
  let http = result.returnValue?.http as RpcHttpOut | undefined;
  if (!http) {
    for (const out of result.outputData as { name: string; data?: RpcTypedData }[]) {
      if (out.data?.http) http = out.data.http as RpcHttpOut;
    }
  }
  if (!http) return { status: 204, headers: [], body: Buffer.alloc(0) };
  const headers: [string, string][] = Object.entries(http.headers ?? {});
  for (const c of http.cookies ?? []) headers.push(['set-cookie', cookieHeader(c)]);
  return { status: Number(http.statusCode ?? 200), headers, body: bodyBytes(http.body) };
}
