/**
 * Option parsing, help and usage errors the way click (Feast's CLI library) does them, for the few
 * options larder has: so that every command line Feast's `feast` accepts for its global options
 * and `serve_offline` means the same to larder, and a mistake gets the message click would print.
 *
 * The rules are click 8's parser: `--` ends the options; `--opt=value` and `--opt value`; `-k value`
 * and `-kvalue`; a word starting with a single `-` is tried as a long option, then as short ones;
 * an unknown long option gets difflib's close matches as "Did you mean"; a group stops at its first
 * positional word (the command), a command collects positionals wherever they are.
 */
import { closeMatches } from './close-matches.ts';

/** One option, as a click `@click.option` declares it. */
export interface OptionSpec {
  /** Key of its value in the parse result. */
  readonly name: string;
  /** The long form, `--host`. */
  readonly long: string;
  /** The short form, `-h`. */
  readonly short?: string;
  /** A flag takes no value (click's is_flag); its value is `true` when given. */
  readonly flag?: boolean;
  /** Type name shown in the help: TEXT, INTEGER. */
  readonly metavar?: string;
  /** Help text; `[default: …]` is appended when `defaultText` is set. */
  readonly help: string;
  readonly defaultText?: string;
}

/**
 * A mistake on the command line (click's UsageError, exit code 2). `withUsage` false is click's
 * BadOptionUsage (an option missing its value, a flag given one), which click prints bare.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly withUsage = true,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedOptions {
  /** The value of each option given (the last one wins, as in click), `true` for flags. */
  readonly values: Readonly<Record<string, string | true>>;
  /** The positional words (for a group: the command and everything after it). */
  readonly positionals: readonly string[];
}

/** Python's repr of a string, as click quotes option and command names. */
export function pyRepr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replaceAll("'", "\\'")}'`;
}

/** click's "Did you mean" suffix for `word` among `candidates` (empty when nothing is close). */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const matches = closeMatches(word, candidates).sort();
  if (matches.length === 0) return '';
  if (matches.length === 1) return ` Did you mean ${pyRepr(matches[0]!)}?`;
  return ` (Did you mean one of: ${matches.map(pyRepr).join(', ')}?)`;
}

/**
 * Parses `args` against `specs`. `interspersed` false (a group) stops at the first positional word;
 * true (a command) collects positionals anywhere. Throws UsageError.
 */
export function parseOptions(args: readonly string[], specs: readonly OptionSpec[], interspersed: boolean): ParsedOptions {
  const longs = new Map(specs.map((s) => [s.long, s]));
  const shorts = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  const rest = [...args];

  const takeValue = (opt: string): string => {
    if (rest.length === 0) throw new UsageError(`Option ${pyRepr(opt)} requires an argument.`, false);
    return rest.shift()!;
  };
  const matchShort = (arg: string): void => {
    for (let i = 1; i < arg.length; i++) {
      const opt = `-${arg[i]}`;
      const spec = shorts.get(opt);
      if (!spec) throw new UsageError(`No such option ${pyRepr(opt)}.`);
      if (spec.flag) {
        values[spec.name] = true;
        continue;
      }
      // The characters after a short option that takes a value are that value (-p8815).
      if (i + 1 < arg.length) rest.unshift(arg.slice(i + 1));
      values[spec.name] = takeValue(opt);
      return;
    }
  };
  const matchOption = (arg: string): void => {
    const eq = arg.indexOf('=');
    const opt = eq < 0 ? arg : arg.slice(0, eq);
    const spec = longs.get(opt);
    if (!spec) {
      // `-xyz` (one dash) falls back to short options; `--xyz` is unknown, with suggestions.
      if (arg[1] !== '-') {
        matchShort(arg);
        return;
      }
      throw new UsageError(`No such option ${pyRepr(opt)}.${didYouMean(opt, [...longs.keys()])}`);
    }
    if (spec.flag) {
      if (eq >= 0) throw new UsageError(`Option ${pyRepr(opt)} does not take a value.`, false);
      values[spec.name] = true;
      return;
    }
    if (eq >= 0) rest.unshift(arg.slice(eq + 1));
    values[spec.name] = takeValue(opt);
  };

  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === '--') break;
    if (arg.startsWith('-') && arg.length > 1) matchOption(arg);
    else if (interspersed) positionals.push(arg);
    else {
      rest.unshift(arg);
      break;
    }
  }
  return { values, positionals: [...positionals, ...rest] };
}

/** click's INTEGER type: Python's int() of the text (spaces around, a sign, `_` between digits). */
export function parseInteger(text: string, option: string): number {
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(text)) throw new UsageError(`Invalid value for ${option}: ${pyRepr(text)} is not a valid integer.`);
  return Number(text.trim().replaceAll('_', ''));
}

/** How click names an option in "Invalid value for '--port' / '-p'". */
export function optionLabel(spec: OptionSpec): string {
  return [spec.long, spec.short]
    .filter((n): n is string => n !== undefined)
    .map(pyRepr)
    .join(' / ');
}

/** The usage-error text click prints: usage line, the hint to --help, then the error. */
export function formatUsageError(error: UsageError, usage: string, helpCommand: string): string {
  if (!error.withUsage) return `Error: ${error.message}\n`;
  return `Usage: ${usage}\nTry '${helpCommand} --help' for help.\n\nError: ${error.message}\n`;
}

/** click's help width: min(terminal, 80) - 2. */
const WIDTH = 78;
const COLUMN_MAX = 30;

/** click's definition list: terms in a column (at most 30 wide), texts wrapped to 80 columns. */
export function formatDefinitions(rows: readonly (readonly [string, string])[]): string {
  const column = Math.min(Math.max(...rows.map(([term]) => term.length)), COLUMN_MAX);
  const indent = 2 + column + 2;
  const lines: string[] = [];
  for (const [term, text] of rows) {
    const wrapped = wrap(text, WIDTH - indent);
    if (term.length > column) {
      lines.push(`  ${term}`);
      for (const line of wrapped) lines.push((' '.repeat(indent) + line).trimEnd());
    } else {
      lines.push(`  ${term.padEnd(column)}  ${wrapped[0] ?? ''}`.trimEnd());
      for (const line of wrapped.slice(1)) lines.push((' '.repeat(indent) + line).trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A help paragraph: indented by two, wrapped as click wraps it. */
export function formatParagraph(text: string): string {
  return `${wrap(text, WIDTH - 2)
    .map((line) => `  ${line}`.trimEnd())
    .join('\n')}\n`;
}

/** The help line of an option: its term (`-h, --host TEXT`) and text. */
export function optionRow(spec: OptionSpec): [string, string] {
  const names = [spec.short, spec.long].filter(Boolean).join(', ');
  const term = spec.flag ? names : `${names} ${spec.metavar ?? 'TEXT'}`;
  return [term, spec.defaultText === undefined ? spec.help : `${spec.help}  [default: ${spec.defaultText}]`];
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  // Split on single spaces: click keeps the two spaces before `[default: …]`.
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
