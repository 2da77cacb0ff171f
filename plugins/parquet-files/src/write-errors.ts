/**
 * File-system failures of a write, as the client should see them: a full disk is
 * RESOURCE_EXHAUSTED naming the path (and saying that the old data is unchanged, which the
 * writers guarantee), a directory larder may not write is PERMISSION_DENIED. Anything else stays
 * as it is (an unexpected failure is larder's to explain).
 */
import { FeastPermissionError, LarderError, ResourceExhaustedError } from '@larder/core';

export function fileWriteError(error: unknown, file: string): Error {
  if (error instanceof LarderError) return error;
  switch ((error as NodeJS.ErrnoException | null)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new ResourceExhaustedError(`No space left on the device for ${file}: nothing was written, the previous data is unchanged`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new FeastPermissionError(`larder may not write ${file}: ${(error as Error).message}`);
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
