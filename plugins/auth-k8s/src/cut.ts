/**
 * Text from the API server that ends up in a caller's error message, cut to a readable length:
 * an error reason or Status message is the API server's (or whoever answers in its place) to
 * choose, and must not become a megabyte-long gRPC status.
 */
export const MAX_REASON_CHARS = 300;

export function cut(text: string, max = MAX_REASON_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (cut)`;
}
