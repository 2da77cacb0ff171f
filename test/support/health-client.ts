/**
 * A client of the gRPC health service (grpc.health.v1), built from larder's own health.proto the
 * way grpc_health_probe or a Kubernetes `grpc:` probe would call it.
 */
import * as grpc from '@grpc/grpc-js';
import { healthServiceDefinition } from '../../core/src/health/health-service.ts';

export type WireStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthClient {
  /** The status Check answers for `service`; rejects with the gRPC error (e.g. NOT_FOUND). */
  check(service?: string): Promise<WireStatus>;
  /** Opens Watch on `service`; every status it sends is pushed to `statuses`; `ended` settles when the server ends it. */
  watch(service?: string): { statuses: WireStatus[]; ended: Promise<void>; cancel(): void };
  close(): void;
}

export function connectHealth(address: string): HealthClient {
  const Client = grpc.makeGenericClientConstructor(healthServiceDefinition(), 'Health');
  const client = new Client(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, CallableFunction>;
  return {
    check(service = '') {
      return new Promise((resolve, reject) => {
        client.Check({ service }, { deadline: Date.now() + 5_000 }, (error: grpc.ServiceError | null, response: { status: WireStatus }) =>
          error ? reject(error) : resolve(response.status),
        );
      });
    },
    watch(service = '') {
      const statuses: WireStatus[] = [];
      const call = client.Watch({ service }) as grpc.ClientReadableStream<{ status: WireStatus }>;
      call.on('data', (message: { status: WireStatus }) => statuses.push(message.status));
      const ended = new Promise<void>((resolve) => {
        call.on('end', () => resolve());
        call.on('error', () => resolve());
      });
      return { statuses, ended, cancel: () => call.cancel() };
    },
    close: () => client.close(),
  };
}
