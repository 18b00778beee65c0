/**
 * Reading a multipart/mixed `$batch` answer (RFC 2046, OData 4.0 §11.7): its parts, nested changeset
 * responses, and the HTTP response inside each `application/http` part. CRLF and bare LF line endings
 * are read alike. It only parses: what an answer means is batch.ts's business.
 */

export interface MimePart {
  /** Header names in lower case. */
  headers: Map<string, string>;
  lines: string[];
}

/** One HTTP response carried in a part. */
export interface HttpAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Map<string, string>;
  body: string;
  /** The Content-ID of the part, naming the changeset operation it answers. */
  contentId?: string;
}

/** The boundary of a `multipart/mixed` Content-Type, or undefined for any other type. */
export function boundaryOf(contentType: string): string | undefined {
  const [type, ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'multipart/mixed') return undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    return (
      param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1') || undefined
    );
  }
  return undefined;
}

function readHeaders(lines: string[], from: number): { headers: Map<string, string>; next: number } {
  const headers = new Map<string, string>();
  let i = from;
  for (; i < lines.length && lines[i].trim() !== ''; i++) {
    const colon = lines[i].indexOf(':');
    if (colon > 0)
      headers.set(lines[i].slice(0, colon).trim().toLowerCase(), lines[i].slice(colon + 1).trim());
  }
  return { headers, next: i + 1 };
}

/** The parts between `--boundary` lines, up to `--boundary--` (or the end of the text). */
export function splitMultipart(text: string | string[], boundary: string): MimePart[] {
  const lines = Array.isArray(text) ? text : text.split(/\r?\n/);
  const delimiter = `--${boundary}`;
  const parts: MimePart[] = [];
  let current: string[] | undefined;
  const close = (): void => {
    if (!current) return;
    const { headers, next } = readHeaders(current, 0);
    parts.push({ headers, lines: current.slice(next) });
  };
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      close();
      if (trimmed !== delimiter) return parts;
      current = [];
      continue;
    }
    current?.push(line);
  }
  close();
  return parts;
}

/** The HTTP response in an `application/http` part. */
export function parseHttpResponse(part: MimePart): HttpAnswer {
  let start = 0;
  while (start < part.lines.length && part.lines[start].trim() === '') start++;
  const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(part.lines[start] ?? '');
  const { headers, next } = readHeaders(part.lines, start + 1);
  return {
    status: status ? Number(status[1]) : 0,
    headers,
    body: part.lines.slice(next).join('\n').trim(),
    contentId: part.headers.get('content-id'),
  };
}
