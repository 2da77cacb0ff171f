#!/usr/bin/env node
/**
 * larder-conformance — runs the store conformance kit against a target module:
 *
 *   npx larder-conformance ./conformance-target.js [--filter TEXT]
 *
 * The module's default export is a StoreConformanceTarget, or a function (maybe async) that
 * returns one. Prints each check as it ends and a final "N passed, N failed" line; exits 1 when a
 * check failed, 2 when the target could not be loaded.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CheckResult } from './check.ts';
import { runConformance } from './suite.ts';
import type { StoreConformanceTarget } from './target.ts';

const USAGE =
  'usage: larder-conformance <target module> [--filter TEXT]\n' +
  '  <target module>: a file (./conformance-target.js) or package whose default export is a\n' +
  '  StoreConformanceTarget from @larder/core/testing, or a function returning one.';

/** A path (relative to the working directory) or a package name installed where the command runs. */
function moduleUrl(specifier: string, cwd: string): string {
  const asPath = path.resolve(cwd, specifier);
  if (specifier.startsWith('.') || path.isAbsolute(specifier) || existsSync(asPath)) return pathToFileURL(asPath).href;
  return pathToFileURL(createRequire(path.join(cwd, 'package.json')).resolve(specifier)).href;
}

async function loadTarget(specifier: string, cwd: string): Promise<StoreConformanceTarget> {
  const module = (await import(moduleUrl(specifier, cwd))) as { default?: unknown };
  let target = module.default;
  if (typeof target === 'function') target = await (target as () => unknown)();
  const candidate = target as Partial<StoreConformanceTarget> | undefined;
  if (!candidate || typeof candidate !== 'object' || !candidate.plugin || typeof candidate.createSource !== 'function') {
    throw new Error(
      `${specifier}: its default export must be a conformance target ({ plugin, storeConfig, createSource(name, table, options) }) or a function returning one`,
    );
  }
  return candidate as StoreConformanceTarget;
}

const MARK: Record<CheckResult['status'], string> = { passed: 'ok  ', failed: 'FAIL', 'not implemented': 'n/i ' };

function print(result: CheckResult): void {
  const seconds = (result.milliseconds / 1000).toFixed(2);
  console.log(`${MARK[result.status]} ${result.name} (${seconds} s)`);
  if (result.status !== 'passed' && result.message) console.log(`       ${result.message.split('\n').join('\n       ')}`);
}

export async function main(argv: readonly string[], cwd = process.cwd()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { filter: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  let target: StoreConformanceTarget;
  try {
    target = await loadTarget(parsed.positionals[0]!, cwd);
  } catch (error) {
    console.error(`larder-conformance: cannot load the target: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  console.log(`larder conformance kit: ${target.plugin.name} store (offline_store type ${JSON.stringify(target.storeConfig.type)})`);
  const report = await runConformance(target, { filter: parsed.values.filter, log: print });
  const notImplemented = report.notImplemented > 0 ? ` (${report.notImplemented} not implemented)` : '';
  console.log(`${report.passed} passed, ${report.failed} failed${notImplemented}`);
  return report.failed > 0 ? 1 : 0;
}

// Run when executed (the bin is a symlink to this file), not when imported. The exit is explicit:
// a target that leaves a handle open (a server it started) must not keep the command running.
const invoked = process.argv[1] && existsSync(process.argv[1]) ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (import.meta.url === invoked) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
