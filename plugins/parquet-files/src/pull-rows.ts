/**
 * pull_all_from_table_or_query and pull_latest_from_table_or_query over a parquet source. Column
 * names are raw source names. Output columns: join keys, features (all source columns when none
 * are named), timestamp, created — in that order, each once — plus Feast's `__dummy_id` ("") when
 * there are no join keys. Bounds are inclusive.
 */
import { DUMMY_ENTITY_ID, assertPullTimeColumns, pullColumns, type CallContext, type PullRequest, type ResultStream } from '@larder/core';
import { Field, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray, type Data, type DataType } from 'apache-arrow';
import { gather } from './gather.ts';
import { encodeKeys, type KeyValue } from './keys.ts';
import { readParquetSchema, readRowGroups } from './parquet-read.ts';
import { locationName, type SourceLocation, type SourceLocator } from './source-paths.ts';
import { arrowColumnTypes, instantsOfData, type Instants } from './timestamps.ts';

const OUTPUT_BATCH_ROWS = 65_536;

interface PullPlan {
  readonly location: SourceLocation;
  readonly columns: readonly string[];
  readonly schema: Schema;
  readonly withDummy: boolean;
}

async function planPull(req: PullRequest, locator: SourceLocator): Promise<PullPlan> {
  const location = locator.locate(req.source);
  const fileSchema = await readParquetSchema(location);
  const columns = pullColumns(
    req,
    fileSchema.fields.map((f) => f.name),
    locationName(location),
  );
  const fields = columns.map((c) => fileSchema.fields.find((f) => f.name === c)!);
  assertPullTimeColumns(req, arrowColumnTypes(fileSchema), locationName(location));
  const withDummy = req.joinKeyColumns.length === 0;
  const schema = new Schema([...fields, ...(withDummy ? [new Field(DUMMY_ENTITY_ID, new Utf8(), true)] : [])]);
  return { location, columns, schema, withDummy };
}

function inRange(ts: Instants, r: number, req: PullRequest): boolean {
  const us = ts.us[r]!;
  if (Number.isNaN(us)) return false;
  if (req.startDate && us < req.startDate.getTime() * 1000) return false;
  // An end bound of whole milliseconds includes every nanosecond of that instant only when equal.
  if (req.endDate && (us > req.endDate.getTime() * 1000 || (us === req.endDate.getTime() * 1000 && ts.ns[r]! > 0))) return false;
  return true;
}

function batchOf(plan: PullPlan, columns: Data[], length: number): RecordBatch {
  if (plan.withDummy) columns.push(vectorFromArray(new Array<string>(length).fill(''), new Utf8()).data[0]!);
  return new RecordBatch(plan.schema, makeData({ type: new Struct(plan.schema.fields), length, nullCount: 0, children: columns }));
}

export async function pullAll(req: PullRequest, locator: SourceLocator, ctx: CallContext): Promise<ResultStream> {
  const plan = await planPull(req, locator);
  async function* batches() {
    for await (const table of readRowGroups(plan.location, plan.columns, ctx.signal)) {
      for (const batch of table.batches) {
        const ts = instantsOfData(batch.getChild(req.timestampField)!.data[0]!);
        const rows: number[] = [];
        for (let r = 0; r < batch.numRows; r++) if (inRange(ts, r, req)) rows.push(r);
        if (rows.length === 0) continue;
        const rowOf = Int32Array.from(rows);
        const chunkOf = new Int32Array(rows.length);
        const columns = plan.columns.map((c) => {
          const data = batch.getChild(c)!.data[0]!;
          return rows.length === batch.numRows ? data : gather(data.type as DataType, [data], chunkOf, rowOf);
        });
        yield batchOf(plan, columns, rows.length);
      }
    }
  }
  return { schema: plan.schema, batches: batches() };
}

export async function pullLatest(req: PullRequest, locator: SourceLocator, ctx: CallContext): Promise<ResultStream> {
  const plan = await planPull(req, locator);
  // The best row per key: greatest (ts, created with nulls lowest, source order).
  const best = new Map<KeyValue, { chunk: number; row: number; us: number; ns: number; cUs: number; cNs: number }>();
  const chunks: Data[][] = plan.columns.map(() => []);
  for await (const table of readRowGroups(plan.location, plan.columns, ctx.signal)) {
    for (const batch of table.batches) {
      const ts = instantsOfData(batch.getChild(req.timestampField)!.data[0]!);
      const created = req.createdTimestampColumn ? instantsOfData(batch.getChild(req.createdTimestampColumn)!.data[0]!) : null;
      const keys = encodeKeys(
        req.joinKeyColumns.map((c) => batch.getChild(c)!.data[0]!),
        batch.numRows,
      );
      const chunk = chunks[0]!.length;
      let kept = false;
      for (let r = 0; r < batch.numRows; r++) {
        if (!inRange(ts, r, req)) continue;
        // A row with a null key part still forms its own group, as pandas' drop_duplicates does.
        const key = keys[r] ?? '\u0000null';
        const us = ts.us[r]!;
        const ns = ts.ns[r]!;
        const cUs = created ? created.us[r]! : NaN;
        const cNs = created ? created.ns[r]! : 0;
        const current = best.get(key);
        if (!current || newer(us, ns, cUs, cNs, current)) {
          best.set(key, { chunk, row: r, us, ns, cUs, cNs });
          kept = true;
        }
      }
      if (kept) plan.columns.forEach((c, i) => chunks[i]!.push(batch.getChild(c)!.data[0]!));
    }
  }
  const winners = [...best.values()];
  async function* batches() {
    for (let start = 0; start < winners.length; start += OUTPUT_BATCH_ROWS) {
      ctx.signal.throwIfAborted();
      const part = winners.slice(start, start + OUTPUT_BATCH_ROWS);
      const chunkOf = Int32Array.from(part, (w) => w.chunk);
      const rowOf = Int32Array.from(part, (w) => w.row);
      const columns = plan.columns.map((_column, i) => gather(plan.schema.fields[i]!.type as DataType, chunks[i]!, chunkOf, rowOf));
      yield batchOf(plan, columns, part.length);
    }
  }
  return { schema: plan.schema, numRows: winners.length, batches: batches() };
}

/** Whether (us, ns, created) beats the current best; ties go to the later row. */
function newer(us: number, ns: number, cUs: number, cNs: number, current: { us: number; ns: number; cUs: number; cNs: number }): boolean {
  if (us !== current.us) return us > current.us;
  if (ns !== current.ns) return ns > current.ns;
  const aNull = Number.isNaN(cUs);
  const bNull = Number.isNaN(current.cUs);
  if (aNull !== bNull) return bNull;
  if (!aNull && (cUs !== current.cUs || cNs !== current.cNs)) return cUs > current.cUs || (cUs === current.cUs && cNs > current.cNs);
  return true;
}
