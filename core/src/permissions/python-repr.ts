/**
 * Python `repr` of the values that appear in Feast's permission-denial texts. The client shows
 * these texts to users verbatim, so they must be byte-identical to what Python prints.
 */
import type { AuthzedAction } from '../registry/model.ts';

// Characters Python's str.isprintable() rejects (besides the ASCII space, which is printable):
// control, format, surrogate, private-use, unassigned, and separators.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python `repr(s)` of a str. */
export function pythonStrRepr(s: string): string {
  // Python prefers single quotes, and switches to double quotes only when that avoids escaping.
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) out += hexEscape(ch.codePointAt(0)!);
    else out += ch;
  }
  return out + quote;
}

function hexEscape(cp: number): string {
  if (cp <= 0xff) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp <= 0xffff) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** Python `repr` of a list of str, e.g. `['reader', 'writer']`. */
export function pythonStrListRepr(items: readonly string[]): string {
  return '[' + items.map(pythonStrRepr).join(', ') + ']';
}

/** `repr(AuthzedAction.X)`: `<AuthzedAction.READ_OFFLINE: 'read_offline'>` (the enum's value is the lower-cased name). */
export function pythonActionRepr(action: AuthzedAction): string {
  return `<AuthzedAction.${action}: ${pythonStrRepr(action.toLowerCase())}>`;
}

/** `repr` of a list of AuthzedAction members, as Feast prints the requested actions. */
export function pythonActionListRepr(actions: readonly AuthzedAction[]): string {
  return '[' + actions.map(pythonActionRepr).join(', ') + ']';
}
