/**
 * What blc shows of a URL or of a message that may hold one: the app's own redaction (a function key
 * in a `code=` query value, bearer tokens, connection-string keys, and the exact secret values it is
 * given, such as the key blc sends), plus the user name and password of a URL (`user:pw@`), which a
 * log line of the app never carries but a `--url` may. Every error or status line blc prints that can
 * hold a URL or an app's words passes through here. It must never be used to redact data blc sends.
 */
import { REDACTED, Redactor } from '../lib/telemetry/redact';

/** `scheme://userinfo@`: everything between `//` and `@` that cannot be part of a host or path. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"]+@/gi;

/** The text with secret values (`secrets`) and secret-shaped parts, URL userinfo included, replaced. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  return new Redactor(secrets).text(text).replace(USERINFO, `$1${REDACTED}@`);
}
