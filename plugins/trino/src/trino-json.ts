/**
 * Trino's statement protocol answers in JSON, with `bigint` values as JSON numbers: `JSON.parse`
 * would round any beyond 2^53 (a hashed entity id, say) to a different id. This parser keeps them
 * exact by reading such integers as decimal strings, which the Arrow conversion turns into int64.
 *
 * Only a page whose text holds a run of 16 digits can hold such a number, so every other page is
 * parsed by plain `JSON.parse`; the others are rewritten first, outside string literals only.
 */

const LONG_DIGITS = /\d{16}/;

/** Parses a Trino response body; integers outside ±(2^53 − 1) become their decimal strings. */
export function parseTrinoJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(quoteUnsafeIntegers(text));
}

/** `text` with every JSON integer literal that a double cannot hold exactly wrapped in quotes. */
function quoteUnsafeIntegers(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string literal, escapes included.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d /* - */) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)) break;
        i++;
      }
      const literal = text.slice(start, i);
      if (/^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        parts.push(text.slice(copied, start), `"${literal}"`);
        copied = i;
      }
      continue;
    }
    i++;
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}
