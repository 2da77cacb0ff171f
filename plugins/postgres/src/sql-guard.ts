/**
 * Client SQL (`entity_df_sql`) under an auth provider: it runs with the server's database role,
 * so before it runs larder decides from the parsed statement (statement-reads.ts) that it reads
 * nothing but the data of sources the caller may READ_OFFLINE:
 *
 * - Relations: every relation it names — in FROM, joins, subqueries, CTE bodies; CTE references
 *   excepted by PostgreSQL's scoping rules — must be one a readable PostgreSQLSource reads: its
 *   `table`, or a relation its `query` names. Names are resolved by PostgreSQL (`to_regclass`) in
 *   the same transaction, with the search path pinned, and compared by OID, so `t`, `public.t`
 *   and `"t"` are one relation, and `pg_catalog.pg_authid` is refused like any other table.
 * - Functions: an allowlist of built-in, pure functions (arithmetic, text, dates, JSON, arrays,
 *   aggregates, window functions), called unqualified or as `pg_catalog.f`. An allowlist, not a
 *   denylist, because what can read data is open-ended: query_to_xml and friends run SQL given as
 *   text, pg_read_file/lo_* read files and large objects, dblink reaches other databases, and any
 *   user-defined function (SECURITY DEFINER or not) can read any table its owner can.
 *   Unqualified names are also checked against the catalog: a function, operator or type of the
 *   same name in a schema on the search path (which overload resolution could pick) is refused.
 * - Operators and type names: only pg_catalog's, for the same reason.
 *
 * Anything refused is a FeastPermissionError naming what; SQL that is not one SELECT is
 * INVALID_ARGUMENT. The statement still runs in a READ ONLY transaction.
 */
import { FeastPermissionError, type DataSource, type SourceAccess } from '@larder/core';
import type { Session } from './session.ts';
import { sourceRelation } from './sources.ts';
import { readsOfSelect, type QualifiedName } from './statement-reads.ts';

const WHAT = 'entity_df_sql';

/** Built-in functions that compute from their arguments only (no table, file, setting or SQL text). */
// biome-ignore format: grouped by kind, many names a line; one a line would run to hundreds of lines
const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // comparison and conditionals that parse as calls
  'num_nulls', 'num_nonnulls',
  // math
  'abs', 'cbrt', 'ceil', 'ceiling', 'degrees', 'div', 'exp', 'factorial', 'floor', 'gcd', 'lcm', 'ln', 'log', 'log10', 'min_scale',
  'mod', 'pi', 'power', 'pow', 'radians', 'round', 'scale', 'sign', 'sqrt', 'trim_scale', 'trunc', 'width_bucket', 'random',
  'acos', 'asin', 'atan', 'atan2', 'cos', 'cot', 'sin', 'tan', 'sinh', 'cosh', 'tanh', 'numeric', 'int4', 'int8', 'float8', 'float4', 'text',
  // text
  'ascii', 'bit_length', 'btrim', 'char_length', 'character_length', 'chr', 'concat', 'concat_ws', 'format', 'initcap', 'left', 'length',
  'lower', 'lpad', 'ltrim', 'md5', 'normalize', 'octet_length', 'overlay', 'position', 'quote_ident', 'quote_literal', 'quote_nullable',
  'regexp_count', 'regexp_instr', 'regexp_like', 'regexp_match', 'regexp_matches', 'regexp_replace', 'regexp_split_to_array',
  'regexp_split_to_table', 'regexp_substr', 'repeat', 'replace', 'reverse', 'right', 'rpad', 'rtrim', 'split_part', 'starts_with',
  'string_to_array', 'string_to_table', 'strpos', 'substr', 'substring', 'to_ascii', 'to_hex', 'translate', 'upper', 'encode', 'decode',
  'sha224', 'sha256', 'sha384', 'sha512', 'like_escape', 'similar_to_escape', 'similar_escape', 'is_normalized', 'unistr',
  // dates and times
  'age', 'clock_timestamp', 'current_date', 'date_add', 'date_bin', 'date_part', 'date_subtract', 'date_trunc', 'extract', 'isfinite',
  'justify_days', 'justify_hours', 'justify_interval', 'make_date', 'make_interval', 'make_time', 'make_timestamp', 'make_timestamptz',
  'now', 'statement_timestamp', 'timeofday', 'transaction_timestamp', 'to_timestamp', 'to_char', 'to_date', 'to_number', 'timezone',
  'overlaps',
  // json
  'to_json', 'to_jsonb', 'array_to_json', 'row_to_json', 'json_build_array', 'jsonb_build_array', 'json_build_object', 'jsonb_build_object',
  'json_object', 'jsonb_object', 'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text',
  'json_array_length', 'jsonb_array_length', 'json_each', 'jsonb_each', 'json_each_text', 'jsonb_each_text', 'json_extract_path',
  'jsonb_extract_path', 'json_extract_path_text', 'jsonb_extract_path_text', 'json_object_keys', 'jsonb_object_keys', 'json_typeof',
  'jsonb_typeof', 'json_strip_nulls', 'jsonb_strip_nulls', 'jsonb_set', 'jsonb_insert', 'jsonb_pretty', 'jsonb_path_exists',
  'jsonb_path_match', 'jsonb_path_query', 'jsonb_path_query_array', 'jsonb_path_query_first', 'json_populate_record', 'json_to_record',
  'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset',
  // arrays and sets
  'array_append', 'array_cat', 'array_dims', 'array_fill', 'array_length', 'array_lower', 'array_ndims', 'array_position', 'array_positions',
  'array_prepend', 'array_remove', 'array_replace', 'array_to_string', 'array_upper', 'cardinality', 'trim_array', 'unnest',
  'generate_series', 'generate_subscripts',
  // aggregates
  'array_agg', 'avg', 'bit_and', 'bit_or', 'bit_xor', 'bool_and', 'bool_or', 'count', 'every', 'json_agg', 'jsonb_agg', 'json_object_agg',
  'jsonb_object_agg', 'max', 'min', 'string_agg', 'sum', 'corr', 'covar_pop', 'covar_samp', 'regr_avgx', 'regr_avgy', 'regr_count',
  'regr_intercept', 'regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy', 'stddev', 'stddev_pop', 'stddev_samp', 'variance',
  'var_pop', 'var_samp', 'mode', 'percentile_cont', 'percentile_disc', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'grouping',
  // window functions
  'row_number', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // misc
  'gen_random_uuid', 'pg_typeof', 'coalesce', 'nullif', 'greatest', 'least', 'uuid_extract_timestamp', 'uuid_extract_version',
]);

/**
 * Refuses `sql` (FeastPermissionError, or INVALID_ARGUMENT when it is not one SELECT) unless it
 * reads only relations of `readable` sources and uses only built-in functions. Runs on the call's
 * session, inside its transaction, after the search path was pinned.
 */
export async function guardEntitySql(session: Session, sql: string, access: SourceAccess): Promise<void> {
  const reads = await readsOfSelect(sql, WHAT);
  for (const name of reads.functions) {
    if (!builtin(name) || !ALLOWED_FUNCTIONS.has(name.at(-1)!)) {
      throw new FeastPermissionError(`${WHAT} may call only PostgreSQL's built-in functions that read no data; it calls ${label(name)}`);
    }
  }
  for (const name of [...reads.operators, ...reads.types]) {
    if (!builtin(name))
      throw new FeastPermissionError(`${WHAT} may use only PostgreSQL's built-in operators and types; it uses ${label(name)}`);
  }
  await refuseShadowedBuiltins(session, reads.functions, reads.operators, reads.types);

  const named = [...new Map(reads.relations.map((n) => [label(n), n])).values()];
  for (const name of named) {
    if (name.length > 2) throw refusedRelation(name);
  }
  const allowed = await readableRelations(session, access.readable, access.denied);
  const oids = await resolveRelations(session, named);
  for (const name of named) {
    const oid = oids.get(label(name));
    if (oid === null || oid === undefined || !allowed.has(oid)) throw refusedRelation(name);
  }
}

/**
 * A data source the client sends for its column listing is checked for READ_OFFLINE under the
 * name it carries: it may not name a relation that holds a denied source's
 * data (its table, or a relation its query reads) unless the caller may read that relation through
 * a source of its own. Relations no source reads stay describable: `feast apply` of a new source
 * lists its columns. Only names and types are ever returned for such a source, never rows.
 */
export async function guardClientSource(session: Session, source: DataSource, access: SourceAccess): Promise<void> {
  const wanted = (await relationNames(source)).names;
  if (wanted.length === 0) return;
  const wantedOids = await resolveNames(session, wanted);
  const deniedOids = await oidsOf(
    session,
    (await Promise.all(access.denied.map(relationNames))).flatMap((n) => n.names),
  );
  const granted = await readableRelations(session, access.readable, access.denied);
  const hit = wanted.find((_, i) => wantedOids[i] !== null && deniedOids.has(wantedOids[i]!) && !granted.has(wantedOids[i]!));
  if (hit) {
    throw new FeastPermissionError(
      `Data source ${source.name} reads ${hit}, which holds the data of a data source you may not read (READ_OFFLINE)`,
    );
  }
}

/** Unqualified, or qualified with pg_catalog. */
function builtin(name: QualifiedName): boolean {
  return name.length === 1 || (name.length === 2 && name[0] === 'pg_catalog');
}

function label(name: QualifiedName): string {
  return name.join('.');
}

function refusedRelation(name: QualifiedName): FeastPermissionError {
  return new FeastPermissionError(
    `${WHAT} may read only the relations of data sources you may read (READ_OFFLINE); it reads ${label(name)}, which is not one of them`,
  );
}

/**
 * An unqualified built-in name that a schema on the search path also defines could resolve to
 * that schema's object (overload resolution weighs every function and operator of the name on the
 * path; pg_temp comes before pg_catalog for types): refused.
 */
async function refuseShadowedBuiltins(
  session: Session,
  functions: readonly QualifiedName[],
  operators: readonly QualifiedName[],
  types: readonly QualifiedName[],
): Promise<void> {
  const bare = (names: readonly QualifiedName[]) => [...new Set(names.filter((n) => n.length === 1).map((n) => n[0]!))];
  const result = await session.run(
    `SELECT kind, name, schema FROM (
       SELECT 'function' AS kind, p.proname::text AS name, n.nspname::text AS schema FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = ANY($1::text[])
       UNION ALL SELECT 'operator', o.oprname::text, n.nspname::text FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace WHERE o.oprname = ANY($2::text[])
       UNION ALL SELECT 'type', t.typname::text, n.nspname::text FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = ANY($3::text[])
     ) AS found WHERE schema <> 'pg_catalog' AND schema = ANY(pg_catalog.current_schemas(true)) LIMIT 1`,
    `${WHAT}: looking up the functions, operators and types it uses`,
    [bare(functions), bare(operators), bare(types)],
  );
  const shadow = result.rows[0] as { kind: string; name: string; schema: string } | undefined;
  if (shadow) {
    throw new FeastPermissionError(
      `${WHAT} may use only PostgreSQL's built-ins; ${shadow.kind} ${shadow.name} is also defined in schema ${shadow.schema}`,
    );
  }
}

/**
 * OIDs of the relations the caller may read: the tables of readable sources, and the relations
 * readable query sources read — except those a denied source also reads, since a query source
 * may show only part of a table (`WHERE tenant = 'a'`) whose other rows belong to a source the
 * caller may not read. (A relation that a denied source reads through a view is not seen here.)
 */
async function readableRelations(session: Session, readable: readonly DataSource[], denied: readonly DataSource[]): Promise<Set<number>> {
  const tables: string[] = [];
  const throughQueries: string[] = [];
  for (const source of readable) {
    const names = await relationNames(source);
    (names.isTable ? tables : throughQueries).push(...names.names);
  }
  const deniedNames = (await Promise.all(denied.map(relationNames))).flatMap((n) => n.names);
  // One statement at a time: the session's connection runs them in turn.
  const granted = await oidsOf(session, tables);
  const viaQueries = await oidsOf(session, throughQueries);
  const refused = await oidsOf(session, deniedNames);
  for (const oid of viaQueries) if (!refused.has(oid)) granted.add(oid);
  return granted;
}

/** The relation names a source reads, as SQL text: its table, or the relations its query names. */
async function relationNames(source: DataSource): Promise<{ isTable: boolean; names: string[] }> {
  let relation;
  try {
    relation = sourceRelation(source);
  } catch {
    return { isTable: true, names: [] }; // not a PostgreSQLSource: nothing of it lives in this database
  }
  if (relation.isTable) return { isTable: true, names: [relation.from] };
  try {
    const reads = await readsOfSelect(relation.query!, `the query of data source ${source.name}`);
    return { isTable: false, names: reads.relations.filter((n) => n.length <= 2).map(quotedName) };
  } catch {
    return { isTable: false, names: [] }; // a query that does not parse grants nothing
  }
}

/**
 * Each name's relation OID as PostgreSQL resolves it now, in order (null: no such relation).
 * A name of three or more parts (another database's relation, which a registered source may
 * name) resolves to null here: to_regclass would raise on it and fail every caller's SQL.
 */
async function resolveNames(
  session: Session,
  names: readonly string[],
  purpose = 'resolving the relations of a data source',
): Promise<Array<number | null>> {
  if (names.length === 0) return [];
  const result = await session.run(
    `SELECT CASE WHEN pg_catalog.array_length(pg_catalog.parse_ident(n, false), 1) <= 2 THEN pg_catalog.to_regclass(n)::oid END AS oid
       FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY i`,
    purpose,
    [names],
  );
  return result.rows.map((r: { oid: number | null }) => r.oid);
}

async function oidsOf(session: Session, names: readonly string[]): Promise<Set<number>> {
  const oids = await resolveNames(session, names, `${WHAT}: resolving the relations of data sources`);
  return new Set(oids.filter((o): o is number => o !== null));
}

/** Each name's relation OID as PostgreSQL resolves it now (null: no such relation). */
async function resolveRelations(session: Session, names: readonly QualifiedName[]): Promise<Map<string, number | null>> {
  const oids = await resolveNames(session, names.map(quotedName), `${WHAT}: resolving the relations it reads`);
  return new Map(names.map((n, i) => [label(n), oids[i]!]));
}

/** A parsed (case-folded) name as SQL text that means exactly it: `"public"."t"`. */
function quotedName(name: QualifiedName): string {
  return name.map((part) => `"${part.replaceAll('"', '""')}"`).join('.');
}
