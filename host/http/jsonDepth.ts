/**
 * How deeply a JSON text nests, found by scanning brackets outside strings, without parsing: a value
 * nested 100,000 deep parses, but serializing it again overflows the stack, so it must be refused
 * before anything recursive touches it.
 */

/**
 * The maximum nesting the host accepts in a JSON body: Json.NET's default `MaxDepth`, which the
 * Durable extension's serializer applies on Azure, so nothing accepted here would be refused there.
 */
export const MAX_JSON_DEPTH = 64;

/** True when `text` has arrays or objects nested deeper than `max`. */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}
