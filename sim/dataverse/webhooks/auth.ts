/**
 * Webhook authentication as Dataverse applies it to the outgoing request: WebhookKey (authtype 4)
 * adds `?code=<authvalue>`; HttpHeader (5) and HttpQueryString (6) read `authvalue` as
 * `<settings><setting name="…" value="…" /></settings>` and add each pair as a header or a query
 * parameter. The secret only ever goes to the registered endpoint; it is never logged or returned.
 */
import { AuthType } from '../schema/systemTables';

export interface WebhookAuth {
  url: string;
  headers: Record<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name]);
}

/** The name/value pairs of an authvalue settings document, or undefined when it is not one. */
export function parseSettings(authValue: string): [string, string][] | undefined {
  const trimmed = authValue.trim();
  if (!/^<settings>[\s\S]*<\/settings>$/.test(trimmed)) return undefined;
  const pairs: [string, string][] = [];
  const setting = /<setting\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g;
  const body = trimmed.slice('<settings>'.length, -'</settings>'.length);
  let consumed = body;
  for (const match of body.matchAll(setting)) {
    pairs.push([unescapeXml(match[1]), unescapeXml(match[2])]);
    consumed = consumed.replace(match[0], '');
  }
  if (consumed.trim() !== '') return undefined;
  return pairs;
}

/** Why an endpoint's authtype/authvalue pair cannot be used, or undefined when it can. */
export function authProblem(authType: number | null, authValue: string | null): string | undefined {
  if (authType === AuthType.webhookKey) {
    return authValue ? undefined : 'A WebhookKey endpoint needs the key in authvalue.';
  }
  if (authType === AuthType.httpHeader || authType === AuthType.httpQueryString) {
    const pairs = authValue ? parseSettings(authValue) : undefined;
    if (!pairs || pairs.length === 0) {
      return 'authvalue must be <settings><setting name="…" value="…" /></settings> with at least one setting.';
    }
    return undefined;
  }
  return `Webhook endpoints use authtype 4 (WebhookKey), 5 (HttpHeader) or 6 (HttpQueryString), not ${String(authType)}.`;
}

export function applyAuth(url: string, authType: number, authValue: string): WebhookAuth {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (authType === AuthType.webhookKey) {
    target.searchParams.set('code', authValue);
  } else {
    for (const [name, value] of parseSettings(authValue) ?? []) {
      if (authType === AuthType.httpHeader) headers[name] = value;
      else target.searchParams.append(name, value);
    }
  }
  return { url: target.toString(), headers };
}
