/**
 * A throwaway self-signed certificate for TLS tests (openssl, RSA 2048, valid one day), with the
 * subject alternative names a client checks when it connects to 127.0.0.1 or localhost.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface CertOptions {
  /** File names: `<name>.key` and `<name>.pem` (default `tls`). */
  readonly name?: string;
  /** The subject's common name (default `localhost`). */
  readonly commonName?: string;
  /** The subjectAltName extension (default `DNS:localhost,IP:127.0.0.1`). */
  readonly altNames?: string;
}

/** Writes the key and certificate into `dir`; returns their paths. */
export function selfSignedCert(dir: string, options: CertOptions = {}): { keyPath: string; certPath: string } {
  const name = options.name ?? 'tls';
  const keyPath = path.join(dir, `${name}.key`);
  const certPath = path.join(dir, `${name}.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${options.commonName ?? 'localhost'}`,
      '-addext',
      `subjectAltName=${options.altNames ?? 'DNS:localhost,IP:127.0.0.1'}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'pipe' },
  );
  return { keyPath, certPath };
}
