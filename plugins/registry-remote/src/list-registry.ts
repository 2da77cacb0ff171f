/**
 * The registry as the registry server lists it, as rows for core's decodeRegistryRows.
 *
 * Why not the server's `Proto` RPC, which answers a whole Registry in one call: Feast builds that
 * answer from `to_proto()` of its Python objects, which leave every object's project empty, so
 * nothing in it can be found by (name, project). The `List*` RPCs return the same objects, filtered
 * by the same RBAC rule (what the caller may DESCRIBE), one project at a time, so the project of
 * each object is known, and core sets it on the object as it does for SQL registry rows.
 *
 * Read: `ListProjects`, then for the configured project and every listed one, the lists of each
 * kind of object larder serves from. A project's lists are asked for together; projects one
 * after another, so a registry server with many projects (Feast's has ten worker threads) is
 * not flooded.
 */
import { decodeRegistryRows, type RegistryRow, type RegistryTable } from '@larder/core';
import type { CallOptions, RegistryServerClient } from './registry-server-client.ts';
import { repeatedMessages, stringField } from './wire.ts';

interface ObjectList {
  readonly rpc: string;
  /** The SQL-registry-style table core files these objects under (see core's registry/rows.ts). */
  readonly table: RegistryTable;
}

/** Every List*Response carries its objects in field 1; every List*Request its project in field 1. */
const RESPONSE_OBJECTS = 1;
const REQUEST_PROJECT = 1;

export const OBJECT_LISTS: readonly ObjectList[] = [
  { rpc: 'ListEntities', table: 'entities' },
  { rpc: 'ListDataSources', table: 'data_sources' },
  { rpc: 'ListFeatureViews', table: 'feature_views' },
  { rpc: 'ListStreamFeatureViews', table: 'stream_feature_views' },
  { rpc: 'ListOnDemandFeatureViews', table: 'on_demand_feature_views' },
  { rpc: 'ListFeatureServices', table: 'feature_services' },
  { rpc: 'ListPermissions', table: 'permissions' },
];

export interface ListOptions {
  /** The project of feature_store.yaml: always read, even when ListProjects leaves it out. */
  readonly project: string;
  readonly deadline: number;
  readonly token: string | null;
}

/**
 * Everything the registry server lists for this caller, as registry rows (object, project) that
 * core's decodeRegistryRows turns into a registry, each object carrying the project it was listed
 * under.
 */
export async function listRegistryRows(client: RegistryServerClient, options: ListOptions): Promise<RegistryRow[]> {
  const call = (rpc: string, request: Buffer, describe: string) =>
    client
      .call(rpc, request, { deadline: options.deadline, token: options.token, describe } satisfies CallOptions)
      .then((answer) => objectsOf(answer, rpc, client.target));

  const projects: RegistryRow[] = (await call('ListProjects', Buffer.alloc(0), 'ListProjects')).map((proto) => ({
    table: 'projects',
    project: '',
    proto,
  }));
  const names = [options.project];
  for (const { name } of decodeRegistryRows(projects).projects) if (name && !names.includes(name)) names.push(name);

  const rows = [...projects];
  for (const name of names) {
    const request = stringField(REQUEST_PROJECT, name);
    const lists = await Promise.all(OBJECT_LISTS.map((list) => call(list.rpc, request, `${list.rpc} (project ${name})`)));
    OBJECT_LISTS.forEach((list, i) => {
      for (const proto of lists[i]!) rows.push({ table: list.table, project: name, proto });
    });
  }
  return rows;
}

function objectsOf(answer: Buffer, rpc: string, target: string): Buffer[] {
  try {
    return repeatedMessages(answer, RESPONSE_OBJECTS);
  } catch (error) {
    throw new Error(
      `registry server ${target} answered ${rpc} with ${answer.length} bytes that are not a ${rpc}Response: ${(error as Error).message}`,
    );
  }
}
