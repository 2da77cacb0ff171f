/**
 * The bearer token larder sends when it is itself a client of a Feast service (the registry
 * server of `registry_type: remote`). Feast's offline server does not forward its caller's token
 * there: it authenticates as itself, through the client manager of its own auth type. larder does
 * the same, in Feast's order:
 *
 * 1. `INTRA_COMMUNICATION_BASE64` set: the unsigned intra-server token Feast's servers accept as
 *    a permission bypass (`preferred_username` for oidc, `sub: ":::<value>"` for kubernetes);
 * 2. otherwise the auth plugin's `serviceToken()` (oidc: token, token_env_var, client
 *    credentials, FEAST_OIDC_TOKEN, the pod's service account token; kubernetes: user_token, the
 *    service account token, LOCAL_K8S_TOKEN);
 * 3. with `auth: no_auth`, no token at all.
 */
import type { AuthProvider } from './auth.ts';
import { NO_AUTH } from './plugins/builtin.ts';

export type ServiceTokenSource = () => Promise<string | null>;

export function serviceTokenSource(
  authType: string,
  provider: AuthProvider | null,
  env: NodeJS.ProcessEnv = process.env,
): ServiceTokenSource {
  return async () => {
    if (authType === NO_AUTH || provider === null) return null;
    const intra = env.INTRA_COMMUNICATION_BASE64;
    if (intra && authType === 'oidc') return unsignedJwt({ preferred_username: intra });
    if (intra && authType === 'kubernetes') return unsignedJwt({ sub: `:::${intra}` });
    if (!provider.serviceToken) {
      throw new Error(`auth.type "${authType}" cannot obtain a token for calling other Feast services: its plugin has no serviceToken()`);
    }
    return provider.serviceToken();
  };
}

/** A JWT with `alg: none` and an empty signature, as PyJWT's `jwt.encode(payload, "", algorithm="none")`. */
export function unsignedJwt(payload: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}
