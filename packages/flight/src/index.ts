/**
 * @larder/flight — an Apache Arrow Flight server for Node.js on grpc-js and apache-arrow.
 *
 * Implement `FlightHandler` (handler.ts: GetFlightInfo, DoGet, DoPut, DoExchange, DoAction, …
 * in terms of Arrow schemas and record batches) and pass it to `createFlightServer`. The transport
 * frames FlightData, splits and coalesces batches, applies backpressure, verifies every IPC
 * message a client sends before decoding it, bounds message sizes per RPC, enforces concurrency
 * caps and deadlines, and turns thrown `FlightError`s into gRPC statuses.
 */
export * from './errors.ts';
export type * from './handler.ts';
export { createFlightServer } from './server.ts';
export type { FlightServerOptions, FlightServer } from './server.ts';
export type { CallLimitOptions } from './call-limits.ts';
export { DEFAULT_CHUNKING } from './chunking.ts';
export type { ChunkingOptions } from './chunking.ts';
export {
  DEFAULT_MAX_COMMAND_BYTES,
  DEFAULT_MESSAGE_LIMITS,
  flightDataLimit,
  MAX_PATH_ELEMENTS,
} from './message-limits.ts';
export type { MessageLimits } from './message-limits.ts';
export { DEFAULT_SETTING_NAMES, settingNames, type SettingNames } from './setting-names.ts';
export { boundedStatusMessage, MAX_STATUS_MESSAGE_BYTES, shortenText, wellFormed } from './status-message.ts';
export { encodeSchema, framedSchema, parseFramedSchema, decodeFlightStream } from './ipc.ts';
export type { DecodedFlightStream, FlightDataFrame } from './ipc.ts';
export { IpcDataError, IPC_LIMITS } from './ipc-verify.ts';
export type { IpcLimits } from './ipc-verify.ts';
export { flightClientDefinition, flightServiceDefinition, PROTO_PATH } from './protocol.ts';
export type { FlightMethod } from './protocol.ts';
export { loadDescriptor, serviceDefinition } from './service-definition.ts';
