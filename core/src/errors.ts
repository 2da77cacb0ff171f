/**
 * Errors that cross the wire.
 *
 * A Feast error reaches the Python client as a gRPC status whose message contains
 * `Flight error: {"module": "feast.errors", "class": …, "message": …}`; the client finds that JSON
 * and re-raises the same exception class. The JSON must look exactly like Python's
 * `json.dumps` output (", " and ": " separators, non-ASCII escaped), and the class must exist in
 * `feast.errors` of the client's Feast version, so only the classes below are emitted.
 */
import { status } from '@grpc/grpc-js';
import { boundedStatusMessage, FlightError, NotFoundError, type GrpcStatus } from '@larder/flight';

// The transport's error classes, under the names larder's plugins use. LarderError is the base of
// every error that reaches a client with a chosen gRPC status.
export {
  FlightError as LarderError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  UnimplementedError,
} from '@larder/flight';
export type { GrpcStatus } from '@larder/flight';

/** Python's json.dumps with default options: ", " / ": " separators and ensure_ascii. */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  }
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(pythonJsonDumps).join(', ') + ']';
  const entries = Object.entries(value as Record<string, unknown>);
  return '{' + entries.map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`).join(', ') + '}';
}

/**
 * An error of Python Feast's `feast.errors` module. `className` must name a class that exists
 * there; the message is Feast's own text for that error.
 */
export class FeastError extends FlightError {
  readonly module = 'feast.errors';
  constructor(
    readonly className: string,
    message: string,
    code: GrpcStatus = status.UNKNOWN,
  ) {
    super(message, code);
    this.name = className;
  }
  /** Feast's `to_error_detail()`: the JSON the client parses. */
  errorDetail(): string {
    return pythonJsonDumps({ module: this.module, class: this.className, message: this.message });
  }
  /** Bounded like every status message; the message is shortened inside the JSON, which stays parseable. */
  override wireMessage(): string {
    const render = (message: string) => `Flight error: ${pythonJsonDumps({ module: this.module, class: this.className, message })}`;
    return boundedStatusMessage(this.message, render);
  }
}

export class FeatureViewNotFoundException extends FeastError {
  constructor(name: string, project?: string) {
    super(
      'FeatureViewNotFoundException',
      project ? `Feature view ${name} does not exist in project ${project}` : `Feature view ${name} does not exist`,
      status.NOT_FOUND,
    );
  }
}

export class DataSourceObjectNotFoundException extends FeastError {
  constructor(name: string, project: string) {
    super('DataSourceObjectNotFoundException', `Data source ${name} does not exist in project ${project}`, status.NOT_FOUND);
  }
}

export class FeatureServiceNotFoundException extends FeastError {
  constructor(name: string, project: string) {
    super('FeatureServiceNotFoundException', `Feature service ${name} does not exist in project ${project}`, status.NOT_FOUND);
  }
}

export class DataSourceNotFoundException extends FeastError {
  constructor(path: string) {
    super('DataSourceNotFoundException', `Unable to find table at '${path}'. Please check that table exists.`, status.NOT_FOUND);
  }
}

export class SavedDatasetLocationAlreadyExists extends FeastError {
  constructor(location: string) {
    super('SavedDatasetLocationAlreadyExists', `Saved dataset location ${location} already exists.`, status.ALREADY_EXISTS);
  }
}

export class FeastPermissionError extends FeastError {
  constructor(details: string) {
    super('FeastPermissionError', `Permission error:\n${details}`, status.PERMISSION_DENIED);
  }
}

export class EntityTimestampInferenceException extends FeastError {
  constructor(expectedColumnName = 'event_timestamp') {
    super(
      'EntityTimestampInferenceException',
      `Please provide an entity_df with a column named ${expectedColumnName} representing the time of events.`,
      status.INVALID_ARGUMENT,
    );
  }
}

export class FeastJoinKeysDuringMaterialization extends FeastError {
  constructor(source: string, joinKeyColumns: string[], sourceColumns: string[]) {
    super(
      'FeastJoinKeysDuringMaterialization',
      `The DataFrame from ${source} being materialized must have at least ${pyList(joinKeyColumns)} columns present, but these were missing: ${pyList(joinKeyColumns.filter((c) => !sourceColumns.includes(c)))} `,
      status.INVALID_ARGUMENT,
    );
  }
}

/**
 * Refusal of an on-demand feature view when no ODFV worker is configured. Feast has no error class
 * for "cannot run ODFVs here", so the closest existing class is used, with a message that names
 * the view and says how to enable the worker.
 */
export class OnDemandFeatureViewNotSupported extends FeastError {
  constructor(name: string) {
    super(
      'FeastObjectNotFoundException',
      `On demand feature view ${name} cannot be computed by this server: its ODFV worker is off. ` +
        `Start larder with --odfv-python PYTHON, or set larder.odfv_python in feature_store.yaml, ` +
        `naming a Python interpreter that has feast installed.`,
      status.UNIMPLEMENTED,
    );
  }
}

/**
 * A column the request relies on is not there: a join key the entity dataframe lacks, or a
 * feature (or other column) a view's source does not have. Feast's stores fail here with a Python
 * KeyError, which Arrow Flight sends as NOT_FOUND and the Feast client raises as
 * `pyarrow.lib.ArrowKeyError` (a KeyError); this status makes the client raise that same class, so
 * code that catches KeyError behaves alike, while the message says which column is missing.
 */
export class MissingColumnError extends NotFoundError {
  constructor(message: string) {
    super(message);
    this.name = 'MissingColumnError';
  }
}

/** Any other Feast error class, with Feast's text. */
export function feastError(className: string, message: string, code: GrpcStatus = status.INVALID_ARGUMENT): FeastError {
  return new FeastError(className, message, code);
}

/** Python's repr of a list of strings: ['a', 'b']. */
export function pyList(items: readonly string[]): string {
  return '[' + items.map((s) => `'${s}'`).join(', ') + ']';
}
