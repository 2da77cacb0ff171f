/**
 * Confinement of client-sent s3:// sources: like local paths, which must be under the repo or a
 * data root, an s3:// URI must be under an s3:// entry of `larder.data_roots`
 * (`s3://bucket/prefix`), at a `/` boundary: root `s3://b/data` holds `s3://b/data/x.parquet`,
 * not `s3://b/database`.
 */
import { InvalidArgumentError } from '@larder/core';

interface S3Ref {
  readonly bucket: string;
  readonly key: string;
}

function parse(uri: string): S3Ref | undefined {
  const match = /^s3:\/\/([^/?#]+)\/*(.*)$/i.exec(uri);
  return match ? { bucket: match[1]!, key: match[2]!.replace(/\/+$/, '') } : undefined;
}

/** Throws unless `uri` lies under one of the s3:// entries of `dataRoots` (other entries are local roots). */
export function assertInsideS3Roots(uri: string, dataRoots: readonly string[]): void {
  const ref = parse(uri);
  // Keys are literal in S3, but "." and ".." segments may be normalised on the way (an HTTP client,
  // a proxy, the server): a client-sent URI with them is refused rather than reasoned about.
  const odd = ref !== undefined && ref.key !== '' && ref.key.split('/').some((part) => part === '.' || part === '..' || part === '');
  if (!ref || odd) throw new InvalidArgumentError(`The data source path ${uri} is not an s3://bucket/key URI the server reads`);
  const inside = dataRoots.some((root) => {
    const r = /^s3:\/\//i.test(root) ? parse(root) : undefined;
    if (!r || r.bucket !== ref.bucket) return false;
    return r.key === '' || ref.key === r.key || ref.key.startsWith(`${r.key}/`);
  });
  if (!inside) {
    throw new InvalidArgumentError(
      `The data source path ${uri} is outside the s3:// entries of larder.data_roots; the server does not read it`,
    );
  }
}
