// `npm run build` runs this before tsc: the .proto files larder serves and reads, parsed once here
// into protobufjs JSON descriptors (proto/*.json, shipped in each package's `proto` directory and
// not committed). At run time they are loaded with protobufjs' Root.fromJSON, which spares every
// start the parsing of .proto text (and @grpc/proto-loader, which also builds reflection
// descriptors nothing here uses): ~50 ms of start-up.
//
//   node scripts/generate-proto-descriptors.js          writes every descriptor
//
// test/unit/proto-descriptors.spec.ts checks the written files against the .proto files.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Each descriptor: the .proto files (relative to `dir`, which is also the import path, as protoc's
 * -I) and the field naming the runtime expects (keepCase: the proto's snake_case names; otherwise
 * camelCase, as @grpc/proto-loader's default).
 */
export const DESCRIPTORS = [
  { out: 'packages/flight/proto/flight.json', dir: 'packages/flight/proto', files: ['flight.proto'], keepCase: false },
  { out: 'core/proto/health.json', dir: 'core/proto', files: ['health.proto'], keepCase: false },
  {
    out: 'core/proto/feast-registry.json',
    dir: 'core/proto',
    files: readdirSync(path.join(ROOT, 'core/proto/feast'))
      .filter((f) => f.endsWith('.proto'))
      .sort()
      .map((f) => `feast/${f}`),
    keepCase: true,
  },
];

/** The protobufjs JSON descriptor of one entry of DESCRIPTORS, parsed from its .proto files now. */
export function describeProtos({ dir, files, keepCase }) {
  const root = new protobuf.Root();
  // google/protobuf/* imports are served by protobufjs' bundled definitions.
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(ROOT, dir, target));
  root.loadSync(files, { keepCase });
  root.resolveAll();
  return root.toJSON();
}

/** The descriptor file's text: what is written, and what the spec compares. */
export function descriptorText(entry) {
  return `${JSON.stringify(describeProtos(entry))}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const entry of DESCRIPTORS) writeFileSync(path.join(ROOT, entry.out), descriptorText(entry));
}
