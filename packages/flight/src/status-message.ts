/**
 * Bounds on the text of a gRPC status. The message travels percent-encoded in the grpc-message
 * trailer, and error texts often echo what the client sent (a column name, an api name): unbounded,
 * a 100 KB trailer broke grpc-js clients' HTTP/2 connections (the call and every later call on the
 * channel hung), and C++ gRPC clients — pyarrow, so the Feast client — refuse metadata over 8 KiB.
 * It must also be well-formed Unicode: grpc-js encodes it with encodeURI, which throws on a lone
 * surrogate outside any handler, and that took the whole process down (an unknown api sent as
 * "\ud800" was enough).
 */

/** Largest status message larder sends, in bytes as encoded in the grpc-message trailer. */
export const MAX_STATUS_MESSAGE_BYTES = 4096;

/** Bytes `text` takes in the grpc-message trailer, which grpc-js fills with `encodeURI(text)`. */
export function statusMessageBytes(text: string): number {
  return encodeURI(wellFormed(text)).length;
}

/** `text` with every lone surrogate (half of a UTF-16 pair) replaced by U+FFFD. */
export function wellFormed(text: string): string {
  // With the u flag a paired surrogate is one code point outside this range; only lone halves match.
  return text.replace(/[\ud800-\udfff]/gu, '\ufffd');
}

/** `text` cut after `keep` characters, saying how much was left out. */
export function shortenText(text: string, keep: number): string {
  if (text.length <= keep) return text;
  return `${text.slice(0, keep)}… (${text.length - keep} more characters)`;
}

/**
 * The longest `render(shortenText(text, keep))` within `maxBytes`: `render` wraps the (possibly
 * shortened) text into the full message, e.g. a JSON document that must stay parseable.
 */
export function boundedStatusMessage(
  text: string,
  render: (text: string) => string = (t) => t,
  maxBytes: number = MAX_STATUS_MESSAGE_BYTES,
): string {
  let keep = text.length;
  for (;;) {
    // Cutting may split a surrogate pair; and the text may quote a lone half sent by the client.
    const message = wellFormed(render(shortenText(text, keep)));
    const bytes = statusMessageBytes(message);
    if (bytes <= maxBytes || keep === 0) return message;
    // Shrink in proportion to the excess (at least one character), so a few rounds suffice.
    keep = Math.max(0, Math.min(keep - 1, Math.floor((keep * maxBytes * 0.9) / bytes)));
  }
}
