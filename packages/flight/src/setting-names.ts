/**
 * How the server's operator sets each limit. A refusal names the setting, so the client's user can
 * tell the operator what to raise. The defaults name the `createFlightServer` options; a host with
 * its own configuration file passes the names its users know instead (larder passes its
 * `feature_store.yaml` keys).
 */
export interface SettingNames {
  /** `limits.callTimeoutMs`: how long a call may run. */
  readonly callTimeout: string;
  /** `limits.maxConcurrentCalls`: calls running at once. */
  readonly maxConcurrentCalls: string;
  /** `limits.maxQueuedCalls`: calls that may wait for a slot. */
  readonly maxQueuedCalls: string;
  /** `limits.queueTimeoutMs`: how long a call may wait for a slot. */
  readonly queueTimeout: string;
  /** `limits.maxConcurrentUploads`: uploads received at once. */
  readonly maxConcurrentUploads: string;
  /** `limits.uploadIdleTimeoutMs`: the longest silence in an upload. */
  readonly uploadIdleTimeout: string;
  /** `limits.uploadMinBytesPerSecond`: the slowest upload accepted. */
  readonly uploadMinBytesPerSecond: string;
  /** `messageLimits.maxCommandBytes`: the largest command, ticket, action body or criteria. */
  readonly maxCommandBytes: string;
  /** `messageLimits.maxFlightDataBytes`: the largest record batch message of an upload. */
  readonly maxFlightDataBytes: string;
}

export const DEFAULT_SETTING_NAMES: SettingNames = {
  callTimeout: 'the server option limits.callTimeoutMs',
  maxConcurrentCalls: 'the server option limits.maxConcurrentCalls',
  maxQueuedCalls: 'the server option limits.maxQueuedCalls',
  queueTimeout: 'the server option limits.queueTimeoutMs',
  maxConcurrentUploads: 'the server option limits.maxConcurrentUploads',
  uploadIdleTimeout: 'the server option limits.uploadIdleTimeoutMs',
  uploadMinBytesPerSecond: 'the server option limits.uploadMinBytesPerSecond',
  maxCommandBytes: 'the server option messageLimits.maxCommandBytes',
  maxFlightDataBytes: 'the server option messageLimits.maxFlightDataBytes',
};

/** `names` over the defaults. */
export function settingNames(names: Partial<SettingNames> = {}): SettingNames {
  return { ...DEFAULT_SETTING_NAMES, ...names };
}
