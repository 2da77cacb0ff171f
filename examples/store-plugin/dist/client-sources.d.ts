import { type CallContext, type DataSource, type StoreEnvironment } from '@larder/core';
/** The location of a client-sent source, once both rules hold. */
export declare function clientSourceLocation(source: DataSource, env: StoreEnvironment, ctx: CallContext): Promise<string>;
