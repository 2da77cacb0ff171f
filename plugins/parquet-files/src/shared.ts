/**
 * The parts of the file store that other parquet-backed stores reuse (the duckdb store reads with
 * DuckDB but shares these): where a FileSource's files are, the confinement of client-sent
 * sources, and the writers — so that a repo written
 * by either store reads the same in both.
 */
export { listParquetFiles, readParquetSchema } from './parquet-read.ts';
export { assertInsideRoots, resolveSourcePath, sourcePath, sourceUri } from './source-paths.ts';
export { assertNotDeniedFiles } from './denied-files.ts';
export { offlineWriteBatch, persist, writeLoggedFeatures } from './write-calls.ts';
export { listSourceFiles, readRowGroups } from './parquet-read.ts';
export { locationKey, locationName, SourceLocator, type SourceLocation } from './source-paths.ts';
export type { BlobLike, FileRanges } from './file-ranges.ts';
export * from './s3/index.ts';
