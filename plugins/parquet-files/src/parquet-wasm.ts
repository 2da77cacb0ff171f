/**
 * parquet-wasm, imported on first use rather than when the plugin loads: importing it compiles a
 * 5 MB WebAssembly module synchronously (~100 ms), and a server should open its port without
 * waiting for that. The first read or write pays it once; every later call shares the module.
 */
type ParquetWasm = typeof import('parquet-wasm');

let loading: Promise<ParquetWasm> | undefined;

/** The parquet-wasm module, imported once. */
export function parquetWasm(): Promise<ParquetWasm> {
  return (loading ??= import('parquet-wasm'));
}
