/**
 * The gRPC health checking service (grpc.health.v1.Health) over a ServerHealth, served on the
 * Flight port so that Kubernetes `grpc:` probes and grpc_health_probe work unchanged.
 *
 * Service names:
 * - `""` and `arrow.flight.protocol.FlightService`: readiness (see ServerHealth);
 * - `liveness`: the process answers; SERVING even while draining;
 * - `registry`: NOT_SERVING while the registry's backing store cannot be read and the last good
 *   copy is being served (readiness stays SERVING then: the server still answers correctly as of
 *   that copy, and taking every replica out of rotation when the registry database blips would
 *   turn a registry outage into a serving outage).
 * Check of any other name fails with NOT_FOUND, and Watch of it reports SERVICE_UNKNOWN, as the
 * protocol asks. A Watch stream ends once the server drains, after it has reported NOT_SERVING,
 * so that open watches do not hold up a graceful shutdown.
 */
import * as grpc from '@grpc/grpc-js';
import { loadDescriptor, serviceDefinition } from '@larder/flight';
import type { ServerHealth, ServingStatus } from './server-health.ts';

export const READINESS_SERVICES: readonly string[] = ['', 'arrow.flight.protocol.FlightService'];
export const LIVENESS_SERVICE = 'liveness';
export const REGISTRY_HEALTH_SERVICE = 'registry';

export interface HealthServiceOptions {
  /** How often an open Watch re-evaluates its status (default 5 s). */
  readonly watchRecheckMs?: number;
  /** Further service names, each reporting one dependency's own status. */
  readonly components?: Readonly<Record<string, () => ServingStatus>>;
}

type WireStatus = ServingStatus | 'SERVICE_UNKNOWN';
interface CheckRequest {
  service: string;
}
interface CheckResponse {
  status: WireStatus;
}

/** core/proto/health.proto as a protobufjs JSON descriptor, written by the build. */
const DESCRIPTOR_URL = new URL('../../proto/health.json', import.meta.url);
let definition: grpc.ServiceDefinition | null = null;

export function healthServiceDefinition(): grpc.ServiceDefinition {
  definition ??= serviceDefinition(loadDescriptor(DESCRIPTOR_URL), 'grpc.health.v1.Health', { enums: String, defaults: true });
  return definition;
}

export function healthServiceImplementation(health: ServerHealth, options: HealthServiceOptions = {}): grpc.UntypedServiceImplementation {
  const watchRecheckMs = options.watchRecheckMs ?? 5_000;
  const components = options.components ?? {};
  const statusOf = async (service: string): Promise<WireStatus> => {
    if (service === LIVENESS_SERVICE) return health.liveness();
    if (Object.hasOwn(components, service)) return components[service]!();
    if (READINESS_SERVICES.includes(service)) return health.readiness();
    return 'SERVICE_UNKNOWN';
  };

  return {
    Check(call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>, callback: grpc.sendUnaryData<CheckResponse>) {
      statusOf(call.request.service).then(
        (status) => {
          if (status === 'SERVICE_UNKNOWN') callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
          else callback(null, { status });
        },
        (error: Error) => callback({ code: grpc.status.INTERNAL, details: error.message }),
      );
    },

    Watch(call: grpc.ServerWritableStream<CheckRequest, CheckResponse>) {
      const service = call.request.service;
      let last: WireStatus | null = null;
      let stopped = false;
      const send = (status: WireStatus) => {
        if (stopped || call.cancelled) return;
        if (status !== last) {
          last = status;
          call.write({ status });
        }
        if (health.state === 'draining') stop();
      };
      const update = () => void statusOf(service).then(send, () => send('NOT_SERVING'));
      const unsubscribe = health.subscribe(update);
      // Dependencies only change when someone checks them; a watcher must hear of it anyway.
      const timer = setInterval(update, watchRecheckMs);
      const stop = () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        unsubscribe();
        if (!call.cancelled) call.end();
      };
      call.on('cancelled', stop);
      call.on('error', () => {});
      update();
    },
  };
}
