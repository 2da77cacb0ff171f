/** A feature_store.yaml problem, reported before anything starts. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly keyPath: string,
    readonly problem: string,
  ) {
    super(`${file}: ${keyPath ? `${keyPath}: ` : ''}${problem}`);
    this.name = 'ConfigError';
  }
}
