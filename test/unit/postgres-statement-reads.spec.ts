/**
 * What a SELECT reads, from PostgreSQL's own parser (libpg-query): relations with CTE references
 * resolved by PostgreSQL's scoping (a CTE naming itself, or a name outside the WITH's reach, is
 * the real table), functions, operators and types; and the statements that are refused because
 * they are not one read-only SELECT.
 */
import { expect } from 'chai';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import { readsOfSelect } from '../../plugins/postgres/src/statement-reads.ts';
import { isTableName } from '../../plugins/postgres/src/sources.ts';

const relations = async (sql: string) => (await readsOfSelect(sql, 'q')).relations.map((n) => n.join('.'));

describe('postgres: what a SELECT reads (libpg-query)', () => {
  it('names every relation: FROM, joins, subqueries in every clause, set operations, TABLE', async () => {
    expect(
      await relations('SELECT * FROM a JOIN public.b USING (k) WHERE EXISTS (SELECT 1 FROM c) AND k IN (SELECT k FROM "D")'),
    ).to.deep.equal(['a', 'public.b', 'c', 'D']);
    expect(await relations('SELECT (SELECT max(x) FROM e) FROM f UNION SELECT 1 FROM g ORDER BY 1')).to.deep.equal(['e', 'f', 'g']);
    expect(await relations('TABLE h')).to.deep.equal(['h']);
    expect(await relations('SELECT * FROM i TABLESAMPLE SYSTEM (10), LATERAL (SELECT * FROM j) AS x')).to.deep.equal(['i', 'j']);
  });

  it('resolves CTE names as PostgreSQL does', async () => {
    expect(await relations('WITH x AS (SELECT * FROM t) SELECT * FROM x')).to.deep.equal(['t']);
    // Visible in nested subqueries and in both arms of a set operation.
    expect(await relations('WITH x AS (SELECT 1) SELECT * FROM (SELECT * FROM x) AS s UNION SELECT * FROM x')).to.deep.equal([]);
    // A plain CTE that names itself reads the real table; so does a later CTE's name used earlier.
    expect(await relations('WITH t AS (SELECT * FROM t) SELECT * FROM t')).to.deep.equal(['t']);
    expect(await relations('WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a, b')).to.deep.equal(['b']);
    // WITH RECURSIVE: every name is visible everywhere in it.
    expect(await relations('WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r')).to.deep.equal(
      [],
    );
    // A CTE's reach ends with its statement: the same name outside it is the table.
    expect(await relations('SELECT * FROM (WITH s AS (SELECT 1) SELECT * FROM s) AS a, s')).to.deep.equal(['s']);
    // A qualified name is never a CTE.
    expect(await relations('WITH t AS (SELECT 1) SELECT * FROM public.t')).to.deep.equal(['public.t']);
  });

  it('lists functions, operators and type names', async () => {
    const reads = await readsOfSelect(
      "SELECT lower(x)::text, pg_catalog.now(), a + b, query_to_xml('select 1', true, false, '') FROM t",
      'q',
    );
    expect(reads.functions.map((n) => n.join('.'))).to.deep.equal(['lower', 'pg_catalog.now', 'query_to_xml']);
    expect(reads.operators.map((n) => n.join('.'))).to.deep.equal(['+']);
    expect(reads.types.map((n) => n.join('.'))).to.deep.equal(['text']);
  });

  it('refuses what is not one read-only SELECT, naming why', async () => {
    const cases: Array<[string, RegExp]> = [
      ['SELECT 1; SELECT 2', /exactly one SELECT statement; it has 2/],
      ['DELETE FROM t', /must be a SELECT statement; it is a DeleteStmt/],
      ['SELECT * INTO u FROM t', /SELECT … INTO/],
      ['SELECT * FROM t FOR UPDATE', /FOR UPDATE/],
      ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', /WITH query d is a DeleteStmt/],
      ['SELECT * FROM (', /not valid SQL/],
      ['', /not valid SQL/],
      ['-- only a comment', /exactly one SELECT statement; it has 0/],
      // Deep enough to overflow a recursive walk: refused, with bounded work.
      [`SELECT * FROM ${'(SELECT * FROM '.repeat(1000)}t${') AS x'.repeat(1000)}`, /nested too deeply/],
      [`SELECT ${'('.repeat(100_000)}1${')'.repeat(100_000)}`, /not valid SQL/],
    ];
    for (const [sql, message] of cases) {
      const error = await readsOfSelect(sql, 'q').catch((e: Error) => e);
      expect(error, sql).to.be.instanceOf(InvalidArgumentError);
      expect((error as Error).message, sql).to.match(message);
    }
  });

  it('a source table must be a (qualified) name and nothing else', () => {
    for (const name of ['t', 'public.t', '"My Table"', 'db.s.t', '"a""b".c', 'tæble']) expect(isTableName(name), name).to.equal(true);
    for (const name of ['x; DROP TABLE y', 't --', '(SELECT 1)', 't AS s', 'a.b.c.d', '"open', '""', '1t', 't /* */'])
      expect(isTableName(name), name).to.equal(false);
  });
});
