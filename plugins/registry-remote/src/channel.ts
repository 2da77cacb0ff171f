/**
 * The gRPC channel settings for the registry server: plaintext, or TLS trusting exactly the CA
 * bundle the config names (as Feast's `grpc.ssl_channel_credentials(root_certificates=…)`),
 * with a client certificate for mutual TLS and an authority override when configured.
 */
import { readFile } from 'node:fs/promises';
import { credentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { authorityHost, type RemoteRegistrySettings, type TlsFiles } from './config.ts';

export interface ChannelSetup {
  readonly credentials: ChannelCredentials;
  readonly options: ChannelOptions;
}

/** Reads the certificate files now, so a missing or unreadable one stops the server at start. */
export async function channelSetup(settings: RemoteRegistrySettings): Promise<ChannelSetup> {
  const options: ChannelOptions = {
    // The whole registry arrives as one message; grpc's default 4 MiB cap would refuse a large
    // one. The server is the one this config trusts, and the answer is decoded whole anyway.
    'grpc.max_receive_message_length': -1,
  };
  if (settings.authority) {
    options['grpc.default_authority'] = settings.authority;
    // Python grpc checks the certificate against the default authority; grpc-js needs the name
    // given separately, or it would check the target's host.
    if (settings.tls) options['grpc.ssl_target_name_override'] = authorityHost(settings.authority);
  }
  if (!settings.tls) return { credentials: credentials.createInsecure(), options };
  return { credentials: await tlsCredentials(settings.tls), options };
}

async function tlsCredentials(tls: TlsFiles): Promise<ChannelCredentials> {
  const ca = await readPem(tls.caPath, tls.caFrom === 'cert' ? 'registry.cert' : tls.caFrom);
  const key = tls.client ? await readPem(tls.client.keyPath, 'registry.client_key') : null;
  const chain = tls.client ? await readPem(tls.client.certPath, 'registry.client_cert') : null;
  try {
    return credentials.createSsl(ca, key, chain);
  } catch (error) {
    const files = [tls.caPath, ...(tls.client ? [tls.client.certPath, tls.client.keyPath] : [])].join(', ');
    throw new Error(`The remote registry's TLS files (${files}) are not usable PEM: ${(error as Error).message}`);
  }
}

async function readPem(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new Error(`${setting}: cannot read ${path} (${e.code ?? e.message})`);
  }
}
