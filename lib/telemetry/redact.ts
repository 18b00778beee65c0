/**
 * Replaces secret values with `[REDACTED]` in text and JSON-like values before they leave the app
 * (log lines, API errors, status answers, telemetry). It knows two kinds of secret: the exact values
 * of the current settings, and the shapes secrets take whatever their value (a bearer token, a
 * connection string's AccountKey, a SAS signature, a function key in a query string).
 */

export const REDACTED = '[REDACTED]';

/** Shorter values would redact ordinary words; no real secret is this short. */
const MIN_SECRET_LENGTH = 6;

const SHAPES: [RegExp, string][] = [
  [/(\bBearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1${REDACTED}`],
  [
    /(\b(?:AccountKey|SharedAccessSignature|SharedAccessKey|ClientSecret|client_secret)=)[^;&\s"']+/gi,
    `$1${REDACTED}`,
  ],
  [/([?&](?:sig|code|client_secret|access_token)=)[^&#\s"']+/gi, `$1${REDACTED}`],
];

/** Depth beyond which values are not walked (status answers are shallow; this only stops cycles). */
const MAX_DEPTH = 32;

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string | undefined | null> = []) {
    const found = new Set<string>();
    for (const secret of secrets) {
      if (!secret || secret.length < MIN_SECRET_LENGTH) continue;
      found.add(secret);
      // Secrets also travel URL-encoded (query strings) and JSON-escaped (serialized bodies).
      found.add(encodeURIComponent(secret));
      found.add(JSON.stringify(secret).slice(1, -1));
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...found].sort((a, b) => b.length - a.length);
  }

  /** The text with every known secret value and every secret-shaped token replaced. */
  text(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
    return out;
  }

  /** Whether the text contains a known secret value (or a secret-shaped token). */
  exposes(text: string): boolean {
    return this.text(text) !== text;
  }

  /**
   * A copy of a JSON-like value with every string redacted (keys too: a secret can be a key). Errors
   * become `{ name, message }`; other objects are walked as plain objects.
   */
  value<T>(value: T): T {
    return this.walk(value, 0, new WeakSet()) as T;
  }

  /** An Error whose message and stack are redacted (a new Error; the original stays untouched). */
  error(err: unknown): Error {
    if (!(err instanceof Error)) return new Error(this.text(String(err)));
    const copy = new Error(this.text(err.message));
    copy.name = err.name;
    copy.stack = err.stack === undefined ? undefined : this.text(err.stack);
    return copy;
  }

  private walk(value: unknown, depth: number, ancestors: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Date) return value;
    // Only a value inside itself is a cycle; the same object twice side by side is copied twice.
    if (depth >= MAX_DEPTH || ancestors.has(value)) return REDACTED;
    if (value instanceof Error) return { name: value.name, message: this.text(value.message) };
    ancestors.add(value);
    try {
      if (Array.isArray(value)) return value.map((item) => this.walk(item, depth + 1, ancestors));
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value))
        out[this.text(key)] = this.walk(item, depth + 1, ancestors);
      return out;
    } finally {
      ancestors.delete(value);
    }
  }
}
