/**
 * The wire format of `$batch` (OData 4.0 §11.7, RFC 2046 multipart/mixed): reading a batch request
 * into its parts (an `application/http` request, or a nested `multipart/mixed` changeset of them) and
 * writing a batch response with `batchresponse_…` and `changesetresponse_…` boundaries, as Dataverse
 * answers. It reads CRLF and bare LF line endings alike (hand-written requests use either). It knows
 * nothing about records or routing and never executes anything.
 */
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';

/** One MIME part: its headers (names in lower case) and its content lines. */
export interface MimePart {
  headers: Map<string, string>;
  lines: string[];
}

/** An HTTP request carried in an `application/http` part. */
export interface PartRequest {
  method: string;
  url: string;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** Why a batch body cannot be read; the caller turns it into Dataverse's 400. */
export class MultipartError extends Error {}

/** The boundary parameter of a `multipart/mixed` Content-Type, or undefined for any other type. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const [type, ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'multipart/mixed') return undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    return value === '' ? undefined : value;
  }
  return undefined;
}

function readHeaders(lines: string[], from: number): { headers: Map<string, string>; next: number } {
  const headers = new Map<string, string>();
  let i = from;
  for (; i < lines.length && lines[i].trim() !== ''; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) throw new MultipartError(`'${lines[i]}' is not a header line.`);
    headers.set(lines[i].slice(0, colon).trim().toLowerCase(), lines[i].slice(colon + 1).trim());
  }
  return { headers, next: i + 1 };
}

/** Splits a multipart body at its boundary; the preamble and epilogue are ignored, the close delimiter is required. */
export function splitMultipart(text: string | string[], boundary: string): MimePart[] {
  const lines = Array.isArray(text) ? text : text.split(/\r?\n/);
  const delimiter = `--${boundary}`;
  const parts: MimePart[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    const closing = trimmed === `${delimiter}--`;
    if (trimmed === delimiter || closing) {
      if (current) {
        const { headers, next } = readHeaders(current, 0);
        parts.push({ headers, lines: current.slice(next) });
      }
      if (closing) return parts;
      current = [];
      continue;
    }
    current?.push(line);
  }
  throw new MultipartError(`The multipart body does not end with '${delimiter}--'.`);
}

/** The HTTP request inside an `application/http` part. */
export function readPartRequest(part: MimePart): PartRequest {
  let start = 0;
  while (start < part.lines.length && part.lines[start].trim() === '') start++;
  const requestLine = part.lines[start]?.trim() ?? '';
  const match = /^([A-Za-z]+)\s+(\S+)(?:\s+HTTP\/\d(?:\.\d)?)?$/.exec(requestLine);
  if (!match) throw new MultipartError(`'${requestLine}' is not an HTTP request line.`);
  const { headers, next } = readHeaders(part.lines, start + 1);
  const body = part.lines.slice(next).join('\r\n').trimEnd();
  return { method: match[1].toUpperCase(), url: match[2], headers: Object.fromEntries(headers), body };
}

/** One HTTP response to write into a batch response. */
export interface PartResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body?: string;
  /** The Content-ID of the request it answers (changeset operations). */
  contentId?: string;
}

export type BatchResponseItem =
  { kind: 'response'; response: PartResponse } | { kind: 'changeset'; responses: PartResponse[] };

function writeResponse(out: string[], boundary: string, response: PartResponse): void {
  out.push(`--${boundary}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary');
  if (response.contentId !== undefined) out.push(`Content-ID: ${response.contentId}`);
  out.push('', `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'Unknown'}`);
  for (const [name, value] of Object.entries(response.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) out.push(`${name}: ${v}`);
  }
  out.push('', response.body ?? '');
}

/** A batch response body and the boundary its Content-Type must name. */
export function writeBatchResponse(items: BatchResponseItem[]): { boundary: string; body: string } {
  const boundary = `batchresponse_${randomUUID()}`;
  const out: string[] = [];
  for (const item of items) {
    if (item.kind === 'response') {
      writeResponse(out, boundary, item.response);
      continue;
    }
    const changeset = `changesetresponse_${randomUUID()}`;
    out.push(`--${boundary}`, `Content-Type: multipart/mixed; boundary=${changeset}`, '');
    for (const response of item.responses) writeResponse(out, changeset, response);
    out.push(`--${changeset}--`);
  }
  out.push(`--${boundary}--`, '');
  return { boundary, body: out.join('\r\n') };
}
