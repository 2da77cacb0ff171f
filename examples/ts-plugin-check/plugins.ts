/**
 * A store, an auth provider and a registry written against @larder/core's published types.
 * `tsc --noEmit` passes only if the declarations are there (strict mode: TS7016 otherwise), export
 * every name used here, and are precise: each `@ts-expect-error` line is a mistake the types must
 * catch, so a contract that degraded to `any` fails the check too ("unused @ts-expect-error").
 */
import {
  DataSourceNotFoundException,
  FeastError,
  FeastPermissionError,
  InvalidArgumentError,
  LarderError,
  RegistryUnavailableError,
  UnauthenticatedError,
  UnimplementedError,
  dateRange,
  requestedFeaturesByView,
  type AuthPlugin,
  type AuthProvider,
  type HistoricalFeaturesRequest,
  type OfflineStore,
  type OfflineStorePlugin,
  type RegistryPlugin,
  type ResultStream,
  type User,
} from '@larder/core';

const unsupported = async (): Promise<never> => {
  throw new UnimplementedError('not in this check');
};

class CheckStore implements OfflineStore {
  async getHistoricalFeatures(req: HistoricalFeaturesRequest): Promise<ResultStream> {
    const views = requestedFeaturesByView(req.featureViews, req.featureRefs).map((r) => r.view);
    const { start, end }: { start: Date; end: Date } = dateRange(views, req.startDate, req.endDate);
    throw new InvalidArgumentError(`no data between ${start.toISOString()} and ${end.toISOString()}`);
  }
  pullLatestFromTableOrQuery = unsupported;
  pullAllFromTableOrQuery = unsupported;
  getTableColumnNamesAndTypes = unsupported;
  async validateDataSource(): Promise<void> {
    throw new DataSourceNotFoundException('nowhere.parquet');
  }
  offlineWriteBatch = unsupported;
  writeLoggedFeatures = unsupported;
  persist = unsupported;
  async close(): Promise<void> {}
}

export const storePlugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'check-store',
  configSchema: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
  create: (_config, env) => {
    const repo: string = env.repoPath;
    env.logger.info({ repo }, 'check store created');
    return new CheckStore();
  },
};

export const authPlugin: AuthPlugin = {
  kind: 'auth',
  name: 'check-auth',
  configSchema: { type: 'object' },
  create: (): AuthProvider => ({
    async authenticate(token: string): Promise<User> {
      if (token !== 'let-me-in') throw new UnauthenticatedError('Invalid token');
      return { username: 'checker', roles: ['reader'], groups: [], namespaces: [] };
    },
  }),
};

export const registryPlugin: RegistryPlugin = {
  kind: 'registry',
  name: 'check-registry',
  configSchema: { type: 'object' },
  async create(config) {
    throw new RegistryUnavailableError(`cannot read ${String(config.path)}`);
  },
};

// Errors are classes carrying the gRPC status they reach the client with; Feast's are LarderErrors.
const denied = new FeastPermissionError('Permission error');
export const statusCode: number = denied.code;
export const isFeastError: boolean = denied instanceof FeastError && denied instanceof LarderError;

// Mistakes the declarations must catch:
// @ts-expect-error a store plugin's kind is 'offline_store'
export const wrongKind: OfflineStorePlugin = { ...storePlugin, kind: 'auth' };
// @ts-expect-error authenticate resolves to a User, not a user name
export const wrongUser: AuthProvider = { authenticate: async (token: string) => token };
// @ts-expect-error a User has roles, groups and namespaces
export const partialUser: User = { username: 'x' };
// @ts-expect-error an OfflineStore has every call of the contract
export const partialStore: OfflineStore = { close: async () => {} };
// @ts-expect-error UnauthenticatedError takes a message
export const noMessage = new UnauthenticatedError();
