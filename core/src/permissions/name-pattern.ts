/**
 * Python `re.fullmatch(pattern, name)` in JavaScript, for the `name_patterns` of a permission.
 *
 * A Python pattern is translated into an equivalent JS (`u` flag) regex and anchored as
 * `^(?:p)$`. The translation covers the syntax where the two dialects differ in meaning
 * (`.`, `$`, `\d`, `\w`, `\s`, named groups, `\A`/`\Z`, literal `{`/`}`/`]`, `{,m}`, escapes); a
 * pattern that Python would reject, or that cannot be translated faithfully, never matches.
 * Not matching is the safe failure: under Feast's affirmative strategy a permission that does
 * not apply can never turn a denial into a grant.
 */

/** Compiled patterns, by source; `null` marks an invalid one. Registry patterns are few and reused. */
const cache = new Map<string, RegExp | null>();
const CACHE_LIMIT = 1000;

/** True when `pattern` matches the whole of `name` as Python's `re.fullmatch` would. */
export function pythonFullMatch(pattern: string, name: string): boolean {
  const re = compilePythonPattern(pattern);
  return re?.test(name) ?? false;
}

/** The anchored JS regex of a Python pattern, or `null` when it is invalid or untranslatable. */
export function compilePythonPattern(pattern: string): RegExp | null {
  if (cache.has(pattern)) return cache.get(pattern)!;
  let compiled: RegExp | null = null;
  const translated = translatePythonPattern(pattern);
  if (translated !== null) {
    try {
      compiled = new RegExp(`^(?:${translated.source})$`, 'u' + translated.flags);
    } catch {
      compiled = null;
    }
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/** Thrown inside the translator for syntax Python rejects or that has no JS equivalent. */
class Untranslatable extends Error {}

// Python's Unicode classes (str patterns default to Unicode matching).
const WORD_U = '\\p{L}\\p{N}_';
const SPACE_U = '\\t-\\r\\x1c-\\x20\\x85\\p{Z}';
// Characters that JS (u flag) lets, or requires, us to escape with a backslash.
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

/** Translates a Python pattern into a JS pattern source plus flags; `null` when impossible. */
export function translatePythonPattern(pattern: string): { source: string; flags: string } | null {
  try {
    return new Translator(pattern).run();
  } catch (e) {
    if (e instanceof Untranslatable) return null;
    throw e;
  }
}

class Translator {
  private i = 0;
  private ascii = false;
  private dotAll = false;
  constructor(private readonly p: string) {}

  run(): { source: string; flags: string } {
    let flags = '';
    // Global inline flags are only legal at the very start (Python ≥ 3.11).
    const globalFlags = /^\(\?([aiLmsux]+)\)/;
    for (let m = globalFlags.exec(this.p); m; m = globalFlags.exec(this.p.slice(this.i))) {
      for (const f of m[1]!) {
        if (f === 'i') flags = flags.includes('i') ? flags : flags + 'i';
        else if (f === 's') this.dotAll = true;
        else if (f === 'a') this.ascii = true;
        else if (f !== 'u') throw new Untranslatable(); // m, x, L change too much to emulate
      }
      this.i += m[0].length;
    }
    let out = '';
    while (this.i < this.p.length) out += this.outside();
    return { source: out, flags };
  }

  /** One token outside a character class. */
  private outside(): string {
    const c = this.p[this.i++]!;
    switch (c) {
      case '\\':
        return this.escapeOutside();
      case '[':
        return this.charClass();
      case '(':
        return this.group();
      case '{':
        return this.brace();
      case '}':
      case ']':
        return '\\' + c; // literal in Python, a syntax error in JS `u` mode
      case '.':
        // Python's `.` excludes only `\n`; JS's also excludes `\r`, U+2028 and U+2029.
        return this.dotAll ? '[\\s\\S]' : '[^\\n]';
      case '$':
        // Python's `$` also matches just before a final newline.
        return '(?=\\n?(?![\\s\\S]))';
      default:
        return c;
    }
  }

  private escapeOutside(): string {
    const c = this.p[this.i++];
    if (c === undefined) throw new Untranslatable();
    switch (c) {
      case 'A':
        return '^';
      case 'Z':
        return '(?![\\s\\S])';
      case 'd':
        return this.ascii ? '\\d' : '\\p{Nd}';
      case 'D':
        return this.ascii ? '\\D' : '\\P{Nd}';
      case 'w':
        return this.ascii ? '\\w' : `[${WORD_U}]`;
      case 'W':
        return this.ascii ? '\\W' : `[^${WORD_U}]`;
      case 's':
        return this.ascii ? '[\\t-\\r ]' : `[${SPACE_U}]`;
      case 'S':
        return this.ascii ? '[^\\t-\\r ]' : `[^${SPACE_U}]`;
      case 'b':
      case 'B':
        return '\\' + c;
      default:
        if (c >= '1' && c <= '9') return this.backReference(c);
        return this.commonEscape(c, false);
    }
  }

  /** Escapes with the same meaning inside and outside a class. */
  private commonEscape(c: string, inClass: boolean): string {
    switch (c) {
      case 'n':
      case 't':
      case 'r':
      case 'f':
      case 'v':
        return '\\' + c;
      case 'a':
        return '\\x07';
      case 'x':
        return codePoint(this.hexDigits(2));
      case 'u':
        return codePoint(this.hexDigits(4));
      case 'U':
        return codePoint(this.hexDigits(8));
      case '0':
        return codePoint(this.octal(0));
      default:
        // Python rejects unknown ASCII-letter and digit escapes; any other escaped char is literal.
        if (/[A-Za-z0-9]/.test(c)) throw new Untranslatable();
        return literal(c, inClass);
    }
  }

  private hexDigits(n: number): number {
    const digits = this.p.slice(this.i, this.i + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw new Untranslatable();
    this.i += n;
    return parseInt(digits, 16);
  }

  /** Up to two more octal digits after an already consumed leading digit. */
  private octal(first: number): number {
    let v = first;
    for (let k = 0; k < 2 && /[0-7]/.test(this.p[this.i] ?? ''); k++) v = v * 8 + Number(this.p[this.i++]);
    return v;
  }

  /** `\N` outside a class: a three-digit octal escape, else a group reference of one or two digits. */
  private backReference(first: string): string {
    const rest = this.p.slice(this.i, this.i + 2);
    if (/^[0-7][0-7]$/.test(rest) && first <= '7') {
      this.i += 2;
      const v = parseInt(first + rest, 8);
      if (v > 0o377) throw new Untranslatable();
      return codePoint(v);
    }
    let n = first;
    if (/[0-9]/.test(this.p[this.i] ?? '')) n += this.p[this.i++];
    // Grouped so that a following literal digit is not read as part of the reference.
    return `(?:\\${n})`;
  }

  private charClass(): string {
    let out = '[';
    if (this.p[this.i] === '^') {
      out += '^';
      this.i++;
    }
    // A `]` right after the opening is a literal in Python; in JS it would close an empty class.
    if (this.p[this.i] === ']') {
      out += '\\]';
      this.i++;
    }
    for (;;) {
      const c = this.p[this.i++];
      if (c === undefined) throw new Untranslatable(); // unterminated set
      if (c === ']') return out + ']';
      if (c === '[') out += '\\[';
      else if (c === '\\') out += this.escapeInClass();
      else out += c;
    }
  }

  private escapeInClass(): string {
    const c = this.p[this.i];
    const out = this.escapeInClassAtom();
    // Python rejects a class shorthand as a range end-point (`[\w-z]`); the spliced JS text would
    // silently form a range instead.
    if ('dDwWsS'.includes(c ?? '-') && this.p[this.i] === '-' && this.p[this.i + 1] !== ']') throw new Untranslatable();
    return out;
  }

  private escapeInClassAtom(): string {
    const c = this.p[this.i++];
    if (c === undefined) throw new Untranslatable();
    switch (c) {
      case 'd':
        return this.ascii ? '\\d' : '\\p{Nd}';
      case 'D':
        return this.ascii ? '\\D' : '\\P{Nd}';
      case 'w':
        return this.ascii ? '\\w' : WORD_U;
      case 's':
        return this.ascii ? '\\t-\\r ' : SPACE_U;
      case 'W':
        // A negated Unicode class cannot be spliced into a set; JS's \W equals Python's ASCII one.
        if (this.ascii) return '\\W';
        throw new Untranslatable();
      case 'S':
        // JS's \S differs from Python's in both modes (Unicode spaces, U+FEFF).
        throw new Untranslatable();
      case 'b':
        return '\\x08'; // backspace inside a set
      default:
        if (c >= '1' && c <= '7') return codePoint(this.octal(Number(c)));
        return this.commonEscape(c, true);
    }
  }

  private group(): string {
    if (this.p[this.i] !== '?') return '(';
    const rest = this.p.slice(this.i + 1);
    if (rest.startsWith('P<')) {
      this.i += 3;
      return '(?<';
    }
    if (rest.startsWith('P=')) {
      const end = this.p.indexOf(')', this.i);
      if (end < 0) throw new Untranslatable();
      const name = this.p.slice(this.i + 3, end);
      this.i = end + 1;
      return `(?:\\k<${name}>)`;
    }
    if (rest.startsWith('#')) {
      const end = this.p.indexOf(')', this.i);
      if (end < 0) throw new Untranslatable();
      this.i = end + 1;
      return ''; // a comment: Python's parser skips it entirely
    }
    // (?: (?= (?! (?<= (?<! pass through; anything else (scoped flags, conditionals, atomic
    // groups) is left for the JS parser, which rejects what it does not know.
    return '(';
  }

  /** `{` starts a quantifier only when Python's parser accepts one here; otherwise it is literal. */
  private brace(): string {
    const m = /^(\d*)(?:(,)(\d*))?\}/.exec(this.p.slice(this.i));
    if (!m || (m[1] === '' && m[2] === undefined)) return '\\{';
    this.i += m[0].length;
    const lo = m[1] === '' ? '0' : m[1];
    return m[2] === undefined ? `{${lo}}` : `{${lo},${m[3]}}`;
  }
}

/** An escaped punctuation char as a JS literal: `u` mode allows `\-` only inside a class. */
function literal(c: string, inClass: boolean): string {
  return JS_SYNTAX.has(c) || (inClass && c === '-') ? '\\' + c : c;
}

function codePoint(v: number): string {
  if (v > 0x10ffff) throw new Untranslatable();
  return `\\u{${v.toString(16)}}`;
}
