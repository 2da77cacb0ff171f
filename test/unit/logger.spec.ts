/**
 * larder's logger and the log line of a refused call, in process: the line shape of
 * createLogger (level names, ISO time, `err` always an object) and what authenticateCall logs
 * when the auth provider refuses a call (the rpc, peer and reason, never the token).
 */
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { FlightCallInfo } from '@larder/flight';
import { authenticateCall, REFUSED_MESSAGE } from '../../core/src/api/authenticate-call.ts';
import { UnauthenticatedError, type AuthProvider } from '../../core/src/auth.ts';
import { createLogger } from '../../core/src/logging/create-logger.ts';

/** A logger in larder's shape whose lines are kept, parsed. */
function capturing(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) }), lines };
}

const callWith = (authorization?: string): FlightCallInfo => ({
  headers: authorization ? { authorization: [authorization] } : {},
  signal: new AbortController().signal,
  peer: '10.1.2.3:5555',
  method: 'DoExchange',
});

describe('createLogger (the shape of larder log lines)', () => {
  it('writes level names and ISO-8601 UTC time', () => {
    const { logger, lines } = capturing();
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    expect(lines.map((l) => l.level)).to.deep.equal(['debug', 'info', 'warn', 'error', 'fatal']);
    for (const line of lines) expect(new Date(line.time as string).toISOString()).to.equal(line.time);
  });

  it('writes `err` as an object whether an Error or only its message was logged', () => {
    const { logger, lines } = capturing();
    logger.warn({ err: new RangeError('out of range') }, 'as an Error');
    logger.warn({ err: 'only the message' }, 'as a string');
    expect(lines[0]!.err).to.include({ type: 'RangeError', message: 'out of range' });
    expect(lines[1]!.err).to.deep.equal({ message: 'only the message' });
  });
});

describe('authenticateCall (a refused call is logged)', () => {
  const provider = (message: (token: string) => string): AuthProvider => ({
    async authenticate(token) {
      if (token === 'good') return { username: 'alice', roles: [], groups: [], namespaces: [] };
      throw new UnauthenticatedError(message(token));
    },
  });

  it('logs nothing for an accepted token', async () => {
    const { logger, lines } = capturing();
    expect(
      (
        await authenticateCall(
          provider(() => 'no'),
          callWith('Bearer good'),
          logger,
        )
      ).username,
    ).to.equal('alice');
    expect(lines).to.deep.equal([]);
  });

  for (const [what, header, reason] of [
    ['no authorization header', undefined, /Missing authorization header/],
    ['a header that is not "Bearer <token>"', 'Basic dXNlcjpwdw==', /Malformed authorization header/],
    ['a token the provider refuses', 'Bearer wrong', /Invalid token/],
  ] as const) {
    it(`logs ${what} at warn with the rpc, peer and reason, and still refuses the call`, async () => {
      const { logger, lines } = capturing();
      const error = await authenticateCall(
        provider(() => 'Invalid token: unknown'),
        callWith(header),
        logger,
      ).catch((e: Error) => e);
      expect(error).to.be.instanceOf(UnauthenticatedError);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({
        level: 'warn',
        msg: REFUSED_MESSAGE,
        rpc: 'DoExchange',
        peer: '10.1.2.3:5555',
        code: status.UNAUTHENTICATED,
      });
      expect(lines[0]!.reason).to.match(reason);
    });
  }

  it('takes the token out of a reason that quotes it', async () => {
    const { logger, lines } = capturing();
    await authenticateCall(
      provider((token) => `Invalid token ${token}: expired`),
      callWith('Bearer s3cret-token'),
      logger,
    ).catch(() => {});
    expect(lines[0]!.reason).to.equal('Invalid token <token>: expired');
    expect(JSON.stringify(lines)).to.not.include('s3cret-token');
  });
});
