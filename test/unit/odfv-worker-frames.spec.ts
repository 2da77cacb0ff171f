import { expect } from 'chai';
import { MessageReader, encodeMessage } from '../../core/src/odfv/worker-frames.ts';

describe('ODFV worker framing', () => {
  it('reassembles messages however the pipe splits them, with and without an IPC body', () => {
    const bytes = Buffer.concat([
      ...encodeMessage({ ready: true, pid: 7 }),
      ...encodeMessage({ ok: true }, new Uint8Array([1, 2, 3, 4, 5])),
      ...encodeMessage({ ok: false, error: { class: 'KeyError', message: 'é' } }),
    ]);
    for (const size of [1, 2, 3, 7, 16, bytes.length]) {
      const reader = new MessageReader();
      const messages = [];
      for (let at = 0; at < bytes.length; at += size) messages.push(...reader.push(bytes.subarray(at, at + size)));
      expect(
        messages.map((m) => m.header),
        `chunks of ${size}`,
      ).to.deep.equal([
        { ready: true, pid: 7 },
        { ok: true, ipc: 5 },
        { ok: false, error: { class: 'KeyError', message: 'é' } },
      ]);
      expect([...messages[1]!.body!]).to.deep.equal([1, 2, 3, 4, 5]);
      expect(messages[0]!.body).to.equal(null);
    }
  });
});
