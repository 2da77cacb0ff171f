/**
 * Makes grpc-js send a PreframedFlightData's frame as it is.
 *
 * grpc-js has no public way to send bytes it did not frame itself: its server call
 * (BaseServerInterceptingCall.serializeMessage) always allocates a new buffer of the message's
 * size and copies the serializer's output into it. That allocation, one fresh multi-MB buffer per
 * FlightData message, cost more than everything else DoGet does (see frames.ts). So this wraps
 * that one method: a PreframedFlightData is returned as its frame, anything else goes the
 * original way. The wrapper is installed once per process and affects no other message.
 *
 * It relies on a grpc-js internal (checked against 1.14). If the internal is missing or looks
 * different, nothing is installed, the server's serializer returns the frame's protobuf part, and
 * grpc-js copies it as before: slower, but the same bytes on the wire.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { PreframedFlightData } from './protocol.ts';

type SerializeMessage = (this: unknown, value: unknown) => Buffer;

const MARK = Symbol.for('larder.preframed-serialize');
let installed: boolean | null = null;

/** The prototype of grpc-js's server call, from the same grpc-js copy that `@grpc/grpc-js` loads. */
function serverCallPrototype(): { serializeMessage?: SerializeMessage & { [MARK]?: true } } | null {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('@grpc/grpc-js');
    const internals = require(path.join(path.dirname(main), 'server-interceptors.js')) as {
      BaseServerInterceptingCall?: { prototype: { serializeMessage?: SerializeMessage } };
    };
    return internals.BaseServerInterceptingCall?.prototype ?? null;
  } catch {
    return null;
  }
}

/** Installs the wrapper (idempotent). Returns whether preframed messages now skip grpc-js's copy. */
export function installPreframedSend(): boolean {
  if (installed !== null) return installed;
  const proto = serverCallPrototype();
  const original = proto?.serializeMessage;
  // serializeMessage(value) takes one argument and returns the framed buffer; anything else is a
  // grpc-js this code does not know.
  if (!proto || typeof original !== 'function' || original.length !== 1) return (installed = false);
  if (original[MARK]) return (installed = true);
  const wrapped = function (this: unknown, value: unknown): Buffer {
    if (value instanceof PreframedFlightData) return value.frame;
    return original.call(this, value);
  } as SerializeMessage & { [MARK]?: true };
  wrapped[MARK] = true;
  proto.serializeMessage = wrapped;
  return (installed = true);
}
