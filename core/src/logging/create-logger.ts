/**
 * larder's logger: pino's JSON lines, shaped as log pipelines (Loki, Elasticsearch, CloudWatch,
 * Datadog) read them without a per-service parser.
 *
 * - `level` is a name ("debug", "info", "warn", "error", "fatal"), not pino's numbers (20…60).
 * - `time` is ISO-8601 UTC with milliseconds ("2026-12-07T11:40:00.123Z"), not epoch milliseconds.
 * - `err` is always an object with at least `message` (and `type`, `stack` for an Error), whether
 *   the code logged an Error or only its message: a field has one JSON type on every line, so an
 *   index that maps `err` as an object on its first line does not reject later lines.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { LogDestination } from './log-destination.ts';

/** pino's level names, as larder writes them in the `level` field. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * A pino logger writing larder's line shape (see the module comment) to `destination` (when
 * omitted, stdout through a {@link LogDestination}, so a reader who stops reading cannot stop
 * larder). `base` fields are added to every line.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, base: Record<string, unknown> = {}): Logger {
  return pino(loggerOptions(level, base), destination ?? new LogDestination());
}

/** The {@link LogDestination} `logger` writes to, if it writes to one (for its dropped-lines metric). */
export function logDestinationOf(logger: Logger): LogDestination | undefined {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  return stream instanceof LogDestination ? stream : undefined;
}

/** The pino options behind createLogger, for callers that build the logger themselves (transports). */
export function loggerOptions(level: LogLevel, base: Record<string, unknown> = {}): LoggerOptions {
  return {
    level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeErr },
  };
}

/** `err` as an object on every line: an Error as pino serializes it, a bare message as `{ message }`. */
function serializeErr(value: unknown): unknown {
  if (value instanceof Error) return pino.stdSerializers.err(value);
  if (value === null || value === undefined || typeof value === 'object') return value;
  return { message: String(value) };
}
