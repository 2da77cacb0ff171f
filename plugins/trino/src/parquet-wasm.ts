/**
 * parquet-wasm, imported on first use rather than when the plugin loads (as the parquet-files
 * plugin does): importing it compiles a 5 MB WebAssembly module (~100 ms), which only a call that
 * stages an entity table needs.
 */
type ParquetWasm = typeof import('parquet-wasm');

let loading: Promise<ParquetWasm> | undefined;

/** The parquet-wasm module, imported once. */
export function parquetWasm(): Promise<ParquetWasm> {
  return (loading ??= import('parquet-wasm'));
}
