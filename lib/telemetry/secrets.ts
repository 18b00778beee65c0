/**
 * Which values of the app's settings are secrets, and the process-wide redactor built from them.
 * Identifiers (tenant and client ids, URLs, the Application Insights instrumentation key) are not
 * secrets; credentials are.
 */
import { readSettings, type AppSettings } from '../config/settings';
import { Redactor } from './redact';

/** The secret parts of a connection string (`AccountKey=...;SharedAccessSignature=...`). */
function connectionStringSecrets(connectionString: string): string[] {
  const out: string[] = [];
  for (const part of connectionString.split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim().toLowerCase();
    if (key === 'accountkey' || key === 'sharedaccesssignature' || key === 'sharedaccesskey')
      out.push(part.slice(at + 1).trim());
  }
  return out;
}

export function secretsOf(settings: AppSettings): string[] {
  const out: string[] = [];
  for (const auth of [settings.dataverseAuth, settings.graphAuth]) {
    if (auth.kind === 'clientSecret') out.push(auth.clientSecret);
    if (auth.kind === 'staticToken') out.push(auth.token);
  }
  if (settings.webhookAuth) out.push(settings.webhookAuth.value);
  if ('connectionString' in settings.storage)
    out.push(...connectionStringSecrets(settings.storage.connectionString));
  return out;
}

let cached: Redactor | undefined;

/**
 * The redactor for this process's settings. Settings that cannot be read still get a redactor:
 * it then knows only the shapes of secrets, which is better than letting text through unredacted.
 */
export function appRedactor(): Redactor {
  if (!cached) {
    let secrets: string[] = [];
    try {
      secrets = secretsOf(readSettings());
    } catch {
      // Invalid settings are reported where they are used; redaction falls back to shapes only.
    }
    cached = new Redactor(secrets);
  }
  return cached;
}
