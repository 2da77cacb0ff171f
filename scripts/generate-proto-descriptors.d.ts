// Types of generate-proto-descriptors.js, for test/unit/proto-descriptors.spec.ts.
import type { INamespace } from 'protobufjs';

export interface ProtoDescriptor {
  /** The JSON file written, relative to the repository root. */
  readonly out: string;
  /** The import path (protoc's -I), relative to the repository root. */
  readonly dir: string;
  /** The .proto files, relative to `dir`. */
  readonly files: readonly string[];
  readonly keepCase: boolean;
}

export const DESCRIPTORS: readonly ProtoDescriptor[];
export function describeProtos(entry: ProtoDescriptor): INamespace;
export function descriptorText(entry: ProtoDescriptor): string;
