/**
 * gRPC service definitions from protobufjs JSON descriptors, without @grpc/proto-loader.
 *
 * proto-loader parses .proto text at every start and builds reflection descriptors for every
 * message, which nothing here uses: ~50 ms of a server's start-up. The build parses the .proto
 * files once into JSON descriptors (scripts/generate-proto-descriptors.js, `proto/*.json` next to
 * the .proto files); this module loads them with protobufjs' light build (no parser) and makes the
 * same method definitions proto-loader's `loadSync` makes: the same paths, the same serializers
 * (`fromObject` then `encode`) and deserializers (`decode` then `toObject` with the options given).
 * protobufjs generates each type's codec on first use, so none of it runs before a call arrives.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';

/**
 * The protobufjs Root of a JSON descriptor written by the build, e.g.
 * `new URL('../proto/flight.json', import.meta.url)`.
 */
export function loadDescriptor(url: URL): protobuf.Root {
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(
      `${fileURLToPath(url)} is missing: it is generated from the .proto files by \`npm run build\` at the repository root; run that, or reinstall the package`,
    );
  }
  const root = protobuf.Root.fromJSON(JSON.parse(text));
  root.resolveAll();
  return root;
}

/**
 * The grpc-js ServiceDefinition of the service `fullName` (e.g. `grpc.health.v1.Health`) in
 * `root`, as proto-loader builds it. `options` shape decoded messages (proto-loader's `longs`,
 * `enums`, `defaults`, `oneofs`, …); field names are those the descriptor was generated with.
 */
export function serviceDefinition(
  root: protobuf.Root,
  fullName: string,
  options: protobuf.IConversionOptions = {},
): grpc.ServiceDefinition {
  const service = root.lookupService(fullName);
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request, options),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response, options),
      // The client's lower-camel alias (`getFlightInfo` beside `GetFlightInfo`); RPC names are
      // UpperCamelCase by the protobuf style guide, as they are in every service here.
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return definition as grpc.ServiceDefinition;
}

function serializer(type: protobuf.Type): (value: unknown) => Buffer {
  return (value) => {
    if (Array.isArray(value))
      throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish() as Buffer;
  };
}

function deserializer(type: protobuf.Type, options: protobuf.IConversionOptions): (bytes: Buffer) => unknown {
  return (bytes) => type.toObject(type.decode(bytes), options);
}
