/**
 * The bounds on a gRPC status message (packages/flight/src/status-message.ts): its encoded size, its
 * Unicode well-formedness, and a Feast error's JSON staying parseable when shortened.
 */
import { expect } from 'chai';
import { FeastError, InvalidArgumentError } from '../../core/src/errors.ts';
import {
  boundedStatusMessage,
  MAX_STATUS_MESSAGE_BYTES,
  statusMessageBytes,
  wellFormed,
} from '../../packages/flight/src/status-message.ts';

describe('status messages', () => {
  it('counts bytes as the grpc-message trailer encodes them', () => {
    expect(statusMessageBytes('abc')).to.equal(3);
    expect(statusMessageBytes('%')).to.equal(3);
    expect(statusMessageBytes('\n')).to.equal(3);
    expect(statusMessageBytes('é')).to.equal(6);
    expect(statusMessageBytes('€')).to.equal(9);
    expect(statusMessageBytes('😀')).to.equal(12);
    expect(statusMessageBytes(' "')).to.equal(6);
  });

  it('replaces lone surrogates and keeps pairs', () => {
    expect(wellFormed('a\ud800b')).to.equal('a\ufffdb');
    expect(wellFormed('\udc00')).to.equal('\ufffd');
    expect(wellFormed('😀')).to.equal('😀');
    // Cutting between the halves of a pair leaves a lone high surrogate: replaced.
    const cut = boundedStatusMessage('😀'.repeat(5000));
    expect(/[\ud800-\udfff]/u.test(cut)).to.equal(false);
    expect(() => encodeURI(cut)).not.to.throw();
  });

  it('leaves short messages alone and shortens long ones under the bound, saying so', () => {
    expect(boundedStatusMessage('short')).to.equal('short');
    const long = boundedStatusMessage(`Unknown api "${'x'.repeat(100_000)}"`);
    expect(statusMessageBytes(long)).to.be.at.most(MAX_STATUS_MESSAGE_BYTES);
    expect(long).to.match(/^Unknown api "x+… \(\d+ more characters\)$/);
  });

  it("shortens a Feast error's message inside its JSON, which stays parseable", () => {
    const error = new FeastError('FeatureViewNotFoundException', `Feature view ${'é'.repeat(50_000)} does not exist`);
    const wire = error.wireMessage();
    expect(statusMessageBytes(wire)).to.be.at.most(MAX_STATUS_MESSAGE_BYTES);
    expect(
      wire.startsWith('Flight error: {"module": "feast.errors", "class": "FeatureViewNotFoundException", "message": "Feature view '),
    ).to.equal(true);
    const parsed = JSON.parse(wire.slice('Flight error: '.length)) as { message: string };
    expect(parsed.message).to.match(/^Feature view é+… \(\d+ more characters\)$/);
    // Short errors are exactly as before.
    expect(new InvalidArgumentError('bad field').wireMessage()).to.equal('bad field');
  });
});
