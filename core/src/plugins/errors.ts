/** A `type:` that names no plugin, a module that failed to load, or a module that is not a valid plugin. */
export class PluginResolutionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PluginResolutionError';
  }
}
