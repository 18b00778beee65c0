/**
 * Makes text safe to log: the value of any `code` query parameter, the userinfo of any URL, and every
 * key the host holds are replaced by `***`. The host passes every line it logs about a request through
 * here, so a key that arrived in a URL (or in a stack trace quoting one) never reaches a log.
 */

const CODE_PARAM = /([?&]code=)[^&#\s'"]*/gi;
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s?#]*@/gi;

export function redactUrlSecrets(text: string): string {
  return text.replace(CODE_PARAM, '$1***').replace(USERINFO, '$1***@');
}

/** A redactor that also hides each of `secrets` wherever it appears, raw or URL-encoded. */
export function secretRedactor(secrets: readonly string[]): (text: string) => string {
  const needles = [...new Set(secrets.flatMap((s) => (s ? [s, encodeURIComponent(s)] : [])))]
    // Longest first, so a key that contains another is hidden whole.
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = redactUrlSecrets(text);
    for (const needle of needles) out = out.split(needle).join('***');
    return out;
  };
}
