/**
 * The registry as the registry server lists it, assembled into one serialized feast.core.Registry
 * for core's decodeRegistry.
 *
 * Why not the server's `Proto` RPC, which answers a whole Registry in one call: Feast builds that
 * answer from `to_proto()` of its Python objects, which leave every object's project empty, so
 * nothing in it can be found by (name, project). The `List*` RPCs return the same objects, filtered
 * by the same RBAC rule (what the caller may DESCRIBE), one project at a time, so the project of
 * each object is known and is written back into it here.
 *
 * Read: `ListProjects`, then for the configured project and every listed one, the lists of each
 * kind of object larder serves from. A project's lists are asked for together; projects one
 * after another, so a registry server with many projects (Feast's has ten worker threads) is
 * not flooded.
 */
import type { CallOptions, RegistryServerClient } from './registry-server-client.ts';
import { appendInside, lenField, repeatedMessages, stringField, wireFields } from './wire.ts';

/** Where an object keeps its project: a field of its `spec` (field 1), or a field of its own. */
type ProjectField = { readonly inSpec: number } | { readonly topLevel: number };

interface ObjectList {
  readonly rpc: string;
  /** The repeated field of feast.core.Registry these objects go to. */
  readonly registryField: number;
  readonly project: ProjectField;
}

/** Every List*Response carries its objects in field 1; every List*Request its project in field 1. */
const RESPONSE_OBJECTS = 1;
const REQUEST_PROJECT = 1;
const REGISTRY_PROJECTS = 17;
const SPEC = 1;
const PROJECT_SPEC_NAME = 1;

/** Field numbers from feast/core/Registry.proto and the objects' own protos. */
export const OBJECT_LISTS: readonly ObjectList[] = [
  { rpc: 'ListEntities', registryField: 1, project: { inSpec: 9 } },
  { rpc: 'ListDataSources', registryField: 12, project: { topLevel: 21 } },
  { rpc: 'ListFeatureViews', registryField: 6, project: { inSpec: 2 } },
  { rpc: 'ListStreamFeatureViews', registryField: 14, project: { inSpec: 2 } },
  { rpc: 'ListOnDemandFeatureViews', registryField: 8, project: { inSpec: 2 } },
  { rpc: 'ListFeatureServices', registryField: 7, project: { inSpec: 2 } },
  { rpc: 'ListPermissions', registryField: 16, project: { inSpec: 2 } },
];

export interface ListOptions {
  /** The project of feature_store.yaml: always read, even when ListProjects leaves it out. */
  readonly project: string;
  readonly deadline: number;
  readonly token: string | null;
}

/** Serialized feast.core.Registry holding everything the registry server lists for this caller. */
export async function listRegistry(client: RegistryServerClient, options: ListOptions): Promise<Buffer> {
  const call = (rpc: string, request: Buffer, describe: string) =>
    client.call(rpc, request, { deadline: options.deadline, token: options.token, describe } satisfies CallOptions).then((answer) =>
      objectsOf(answer, rpc, client.target),
    );

  const projects = await call('ListProjects', Buffer.alloc(0), 'ListProjects');
  const names = [options.project];
  for (const project of projects) {
    const name = projectName(project);
    if (name && !names.includes(name)) names.push(name);
  }

  const parts = projects.map((project) => lenField(REGISTRY_PROJECTS, project));
  for (const name of names) {
    const request = stringField(REQUEST_PROJECT, name);
    const lists = await Promise.all(OBJECT_LISTS.map((list) => call(list.rpc, request, `${list.rpc} (project ${name})`)));
    OBJECT_LISTS.forEach((list, i) => {
      for (const object of lists[i]!) parts.push(lenField(list.registryField, withProject(object, list.project, name)));
    });
  }
  return Buffer.concat(parts);
}

function objectsOf(answer: Buffer, rpc: string, target: string): Buffer[] {
  try {
    return repeatedMessages(answer, RESPONSE_OBJECTS);
  } catch (error) {
    throw new Error(`registry server ${target} answered ${rpc} with ${answer.length} bytes that are not a ${rpc}Response: ${(error as Error).message}`);
  }
}

/** The object with its project set (an empty string is absent on the wire, so this adds it). */
function withProject(object: Buffer, where: ProjectField, project: string): Buffer {
  return 'inSpec' in where
    ? appendInside(object, SPEC, stringField(where.inSpec, project))
    : Buffer.concat([object, stringField(where.topLevel, project)]);
}

/** feast.core.Project → spec (1) → name (1). */
function projectName(project: Buffer): string | null {
  for (const f of wireFields(project)) {
    if (f.field !== SPEC || f.payload === null) continue;
    for (const g of wireFields(f.payload)) if (g.field === PROJECT_SPEC_NAME && g.payload !== null) return g.payload.toString('utf8');
  }
  return null;
}
