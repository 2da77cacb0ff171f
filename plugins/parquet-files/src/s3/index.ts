/**
 * S3 object access for parquet-backed stores: s3:// URIs, the store-level `s3:` settings, one SDK
 * client per endpoint (credentials from the AWS default chain only), ranged reads pinned to an
 * ETag, directory listings in the local path's order, errors mapped to Feast's classes, and the
 * confinement of client-sent sources to `s3://` data roots.
 */
export { DEFAULT_ENDPOINT, S3Connector, type S3Access } from './connector.ts';
export { s3Error, type S3Attempt } from './errors.ts';
export { Limiter } from './limiter.ts';
export { listObjects, type S3ListedObject } from './list.ts';
export { S3Location } from './location.ts';
export { headObject, openObjectRanges, type S3ObjectVersion } from './object-ranges.ts';
export { RangeCache } from './range-cache.ts';
export { assertS3InsideRoots, assertEndpointAllowed, s3Roots } from './roots.ts';
export { s3ConfigSchema, s3SettingsFromConfig, type S3ConfigSection, type S3Settings } from './settings.ts';
export { directoryPrefix, isS3Uri, parseS3Uri, s3RefInside, s3UriOf, type S3Ref } from './uri.ts';
