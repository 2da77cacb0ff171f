/** One structured log line per Feast call (call, user, rows, bytes, duration), via the afterCall hook. */
import type { Logger } from 'pino';
import type { LarderError } from './errors.ts';
import type { LarderHooks } from './hooks.ts';

export function tapCallLog(hooks: LarderHooks, logger: Logger): void {
  hooks.afterCall.tap('call-log', (call, outcome) => {
    const line = {
      call: call.api,
      rpc: call.rpc,
      user: call.user?.username ?? null,
      peer: call.peer,
      rows: outcome.rows,
      bytes: outcome.bytes,
      durationMs: Math.round(outcome.durationMs * 10) / 10,
    };
    if (outcome.error) {
      const code = (outcome.error as Partial<LarderError>).code;
      logger.warn({ ...line, err: outcome.error.message, code }, 'call failed');
    } else {
      logger.info(line, 'call');
    }
  });
}
