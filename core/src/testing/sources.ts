/**
 * Registry DataSources for a conformance target to return, so that a file store's author writes
 * where the kit's rows go, not every field of the registry's FileSource.
 */
import type { DataSource, FileFormat } from '../registry/model.ts';

/** A FileSource (`type: BATCH_FILE`) at `uri` (relative to the run's repo, or absolute), in the kit's project. */
export function fileSource(
  name: string,
  uri: string,
  options: { readonly timestampField: string; readonly createdTimestampColumn: string; readonly fileFormat?: FileFormat },
): DataSource {
  return {
    name,
    project: 'kit', // the project the kit registers its objects in (kit-data.ts)
    type: 'BATCH_FILE',
    dataSourceClassType: '',
    timestampField: options.timestampField,
    createdTimestampColumn: options.createdTimestampColumn,
    datePartitionColumn: '',
    fieldMapping: {},
    description: '',
    owner: '',
    tags: {},
    fileOptions: { uri, fileFormat: options.fileFormat, s3EndpointOverride: '' },
  };
}
