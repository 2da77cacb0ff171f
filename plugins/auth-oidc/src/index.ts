/**
 * larder's `oidc` auth provider: bearer JWTs from an OpenID Connect identity provider (Keycloak,
 * Entra ID, Okta, …), verified against its published keys and mapped to a user exactly as Feast's
 * OIDC parser does. An example of an auth plugin: it imports only @larder/core's public API.
 */
import type { AuthPlugin } from '@larder/core';
import { configSchema, settingsFrom, type OidcAuthConfig } from './config.ts';
import { OidcAuthProvider } from './provider.ts';

const plugin: AuthPlugin = {
  kind: 'auth',
  name: 'oidc',
  configSchema,
  create(config, env) {
    const settings = settingsFrom(config as unknown as OidcAuthConfig);
    if (!settings.audience && !(settings.audienceFromClientId && settings.clientId)) {
      env.logger.warn(
        'auth oidc: neither audience nor client_id is set, so any token signed by the identity provider is accepted, whichever client it was issued to',
      );
    }
    return new OidcAuthProvider(settings, env);
  },
};

export default plugin;
