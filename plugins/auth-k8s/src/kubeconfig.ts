/**
 * Reading a kubeconfig (the file kubectl uses) into a ClusterConnection: the current context's
 * cluster (server URL, CA) and user (bearer token or client certificate). Several files, as in a
 * colon-separated KUBECONFIG, merge the way kubectl merges them: the first definition of a name wins.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { serverUrl, tokenSource, type ClusterConnection } from './cluster-connection.ts';

type Entry = Record<string, unknown>;

interface Named {
  readonly name: string;
  readonly value: Entry;
  /** The file it came from: relative file references resolve against its directory. */
  readonly file: string;
}

interface Merged {
  currentContext?: string;
  readonly clusters: Named[];
  readonly users: Named[];
  readonly contexts: Named[];
}

/** The connection of the current context (or `contextName`) across one or more kubeconfig files. */
export function kubeconfigConnection(files: readonly string[], contextName?: string): ClusterConnection {
  const merged: Merged = { clusters: [], users: [], contexts: [] };
  for (const file of files) addFile(merged, file, readFileSync(file, 'utf8'));
  const where = files.join(path.delimiter);
  const name = contextName ?? merged.currentContext;
  if (!name) throw new Error(`kubeconfig ${where}: no current-context is set`);
  const context = find(merged.contexts, name, 'context', where);
  const clusterName = str(context.value.cluster);
  const userName = str(context.value.user);
  if (!clusterName) throw new Error(`kubeconfig ${where}: context "${name}" names no cluster`);
  const cluster = find(merged.clusters, clusterName, 'cluster', where);
  const user = userName ? find(merged.users, userName, 'user', where) : undefined;
  return {
    ...clusterPart(cluster, where),
    ...userPart(user, where),
    namespace: str(context.value.namespace),
    description: `kubeconfig ${where} (context "${name}")`,
  };
}

function addFile(merged: Merged, file: string, text: string): void {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new Error(`kubeconfig ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`kubeconfig ${file} is not a mapping`);
  const config = doc as Entry;
  merged.currentContext ??= str(config['current-context']);
  const collect = (list: unknown, key: string, into: Named[]) => {
    for (const item of Array.isArray(list) ? list : []) {
      const entry = item as Entry;
      const name = str(entry?.name);
      if (name && !into.some((n) => n.name === name)) into.push({ name, value: (entry[key] as Entry) ?? {}, file });
    }
  };
  collect(config.clusters, 'cluster', merged.clusters);
  collect(config.users, 'user', merged.users);
  collect(config.contexts, 'context', merged.contexts);
}

function find(list: Named[], name: string, what: string, where: string): Named {
  const found = list.find((n) => n.name === name);
  if (!found) throw new Error(`kubeconfig ${where}: ${what} "${name}" is not defined`);
  return found;
}

function clusterPart(cluster: Named, where: string) {
  const c = cluster.value;
  const server = str(c.server);
  if (!server) throw new Error(`kubeconfig ${where}: cluster "${cluster.name}" has no server`);
  return {
    server: serverUrl(server, `kubeconfig ${where}, cluster "${cluster.name}"`),
    ca: inlineOrFile(c, 'certificate-authority', cluster.file),
    insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
  };
}

function userPart(user: Named | undefined, where: string) {
  const u = user?.value ?? {};
  // These need a credential plugin or a login flow larder does not run; failing now beats a 401 per call.
  for (const key of ['exec', 'auth-provider', 'username']) {
    if (u[key] !== undefined) {
      throw new Error(
        `kubeconfig ${where}: user "${user!.name}" uses "${key}", which larder does not support; use a token, tokenFile or client certificate`,
      );
    }
  }
  const tokenFile = str(u.tokenFile);
  return {
    clientCert: inlineOrFile(u, 'client-certificate', user?.file),
    clientKey: inlineOrFile(u, 'client-key', user?.file),
    bearerToken: tokenSource(str(u.token), tokenFile && user ? path.resolve(path.dirname(user.file), tokenFile) : undefined),
  };
}

/** `<key>-data` (base64, inline) or `<key>` (a file path, relative to the kubeconfig). */
function inlineOrFile(entry: Entry, key: string, file: string | undefined): Buffer | undefined {
  const data = str(entry[`${key}-data`]);
  if (data) return Buffer.from(data, 'base64');
  const ref = str(entry[key]);
  if (ref && file) return readFileSync(path.resolve(path.dirname(file), ref));
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
