/**
 * Unary calls to Feast's registry server (service feast.registry.RegistryServer) with the request
 * and the answer as raw bytes, so no .proto file or generated code is needed (wire.ts builds the
 * few request fields; core decodes the registry in the end).
 *
 * Every call has a deadline, so a registry server that hangs never hangs a Flight call that is
 * waiting for a refresh. A call that finds no connection drops the channel: the next check opens
 * a fresh one and connects at once, instead of waiting out grpc's reconnect backoff (which grows
 * to two minutes while a server is down).
 */
import { Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { callFailure } from './call-failure.ts';
import type { ChannelSetup } from './channel.ts';

const SERVICE = '/feast.registry.RegistryServer/';

export interface CallOptions {
  /** Epoch ms by which the call must be answered. */
  readonly deadline: number;
  /** Sent as `authorization: Bearer <token>`; null sends no header. */
  readonly token: string | null;
  /** How the failure message names the call, e.g. `ListFeatureViews (project driver_ranking)`. */
  readonly describe?: string;
}

export class RegistryServerClient {
  private client: Client | null = null;
  private closed = false;

  constructor(
    readonly target: string,
    private readonly channel: ChannelSetup,
    private readonly timeoutMs: number,
  ) {}

  /** Calls `rpc` (a RegistryServer method name) with a serialized request; the serialized answer. */
  call(rpc: string, request: Buffer, options: CallOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error(`the client of registry server ${this.target} is closed`));
    const client = (this.client ??= new Client(this.target, this.channel.credentials, this.channel.options));
    const metadata = new Metadata();
    if (options.token !== null) metadata.set('authorization', `Bearer ${options.token}`);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest<Buffer, Buffer>(
        SERVICE + rpc,
        (bytes) => bytes,
        (bytes) => bytes,
        request,
        metadata,
        { deadline: options.deadline },
        (error: ServiceError | null, answer?: Buffer) => {
          if (error) {
            if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED) this.dropChannel(client);
            const context = {
              target: this.target,
              method: options.describe ?? rpc,
              timeoutMs: this.timeoutMs,
              sentToken: options.token !== null,
            };
            reject(callFailure(error, context));
          } else {
            resolve(answer ?? Buffer.alloc(0));
          }
        },
      );
    });
  }

  close(): void {
    this.closed = true;
    this.client?.close();
    this.client = null;
  }

  private dropChannel(client: Client): void {
    client.close();
    if (this.client === client) this.client = null;
  }
}
