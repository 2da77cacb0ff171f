import { ExampleParquetStore } from "./store.js";
export { ExampleParquetStore } from "./store.js";
const plugin = {
    kind: 'offline_store',
    name: 'larder-store-example',
    // JSON Schema of the whole `offline_store` section, `type` included; an unknown key is an error.
    configSchema: {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: {
            type: { type: 'string' },
            max_source_mb: { type: 'number', exclusiveMinimum: 0, default: 256 },
            batch_rows: { type: 'integer', minimum: 1, maximum: 1_048_576, default: 65_536 },
        },
    },
    create(config, env) {
        const maxSourceMb = config.max_source_mb ?? 256;
        const batchRows = config.batch_rows ?? 65_536;
        return new ExampleParquetStore(env, { maxSourceBytes: maxSourceMb * 2 ** 20, batchRows });
    },
};
export default plugin;
//# sourceMappingURL=index.js.map