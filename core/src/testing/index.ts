/**
 * @larder/core/testing — the store conformance kit: the checks every larder offline store passes
 * (the point-in-time rule, the pulls, the writes, column listing, errors, cancellation), for a
 * third-party store to run as the built-in ones do. Framework-agnostic: run the checks from any
 * test framework, with `runConformance`, or with the `larder-conformance` command.
 */
export type { StoreConformanceTarget, SourceOptions, DestinationOptions, LoggingDestination, DateRangeRule } from './target.ts';
export { NotImplementedByStore, isNotImplemented, runCheck } from './check.ts';
export type { Check, CheckResult, CheckStatus, ConformanceReport } from './check.ts';
export { storeConformanceChecks, runConformance } from './suite.ts';
export type { ConformanceSuite, RunOptions } from './suite.ts';
export type { KitOptions } from './kit-run.ts';
export { kitTable, toArrow } from './kit-table.ts';
export { fileSource } from './sources.ts';
export type { KitTable, KitColumn, ColumnKind, Row, Value } from './kit-table.ts';
export { expectedHistorical, expectedPullAll, expectedPullLatest } from './reference.ts';
export type { ExpectedResult, ReferencePull } from './reference.ts';
