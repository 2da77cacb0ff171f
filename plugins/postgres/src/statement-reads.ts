/**
 * What one SELECT statement reads, told by PostgreSQL's own parser (libpg-query: the server's
 * grammar compiled to WASM), never by patterns over the SQL text: the relations it names (CTE
 * references resolved with PostgreSQL's scoping rules), the functions it calls, the operators
 * and type names it uses. sql-guard.ts decides what of that a caller may use.
 */
import { InvalidArgumentError } from '@larder/core';
import { parse } from 'libpg-query';

/** A name as written, parts already case-folded by the parser: `["public", "t"]`, `["lower"]`. */
export type QualifiedName = readonly string[];

export interface StatementReads {
  /** Relations named in FROM clauses (and `TABLE x`), CTE references excluded. */
  readonly relations: readonly QualifiedName[];
  readonly functions: readonly QualifiedName[];
  readonly operators: readonly QualifiedName[];
  readonly types: readonly QualifiedName[];
}

type Node = Record<string, unknown>;

/** Parses `sql`, which must be exactly one SELECT (WITH … SELECT, set operations, VALUES included). */
export async function readsOfSelect(sql: string, what: string): Promise<StatementReads> {
  let tree: { stmts?: Array<{ stmt?: Node }> };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (error) {
    throw new InvalidArgumentError(`${what} is not valid SQL: ${(error as Error).message.split('\n')[0]}`);
  }
  const statements = tree.stmts ?? [];
  if (statements.length !== 1) throw new InvalidArgumentError(`${what} must be exactly one SELECT statement; it has ${statements.length}`);
  const statement = statements[0]!.stmt ?? {};
  const kind = Object.keys(statement)[0] ?? 'empty';
  if (kind !== 'SelectStmt') throw new InvalidArgumentError(`${what} must be a SELECT statement; it is a ${kind}`);
  const collector = new Collector(what);
  collector.select(statement.SelectStmt as Node, new Set(), 0);
  return collector.reads;
}

/** Levels of the parse tree walked at most (a nested subquery takes about five): work stays bounded. */
const MAX_DEPTH = 1000;

class Collector {
  readonly reads = {
    relations: [] as QualifiedName[],
    functions: [] as QualifiedName[],
    operators: [] as QualifiedName[],
    types: [] as QualifiedName[],
  };

  constructor(private readonly what: string) {}

  /**
   * A SELECT with the CTE names visible to it. Its own WITH adds names: in a plain WITH each
   * query sees only the CTEs before it (a CTE naming itself reads the real table); in WITH
   * RECURSIVE every query sees all of them. The body and both arms of a set operation see all.
   */
  select(node: Node, outer: ReadonlySet<string>, depth: number): void {
    this.checkDepth(depth);
    if (node.intoClause) throw new InvalidArgumentError(`${this.what} must only read: SELECT … INTO creates a table`);
    if (node.lockingClause) throw new InvalidArgumentError(`${this.what} must only read: FOR UPDATE/SHARE locks rows`);
    let scope = outer;
    const withClause = node.withClause as Node | undefined;
    if (withClause) {
      const ctes = ((withClause.ctes as Node[] | undefined) ?? []).map((c) => c.CommonTableExpr as Node);
      for (const cte of ctes) {
        const kind = Object.keys((cte.ctequery as Node | undefined) ?? {})[0];
        if (kind !== 'SelectStmt')
          throw new InvalidArgumentError(`${this.what} must only read: its WITH query ${String(cte.ctename)} is a ${kind}`);
      }
      if (withClause.recursive) {
        scope = new Set([...outer, ...ctes.map((c) => String(c.ctename))]);
        for (const cte of ctes) this.visit(cte.ctequery, scope, depth + 1);
      } else {
        const growing = new Set(outer);
        for (const cte of ctes) {
          this.visit(cte.ctequery, growing, depth + 1);
          growing.add(String(cte.ctename));
        }
        scope = growing;
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'withClause') continue;
      if (key === 'larg' || key === 'rarg') this.select(value as Node, scope, depth + 1);
      else this.visit(value, scope, depth + 1);
    }
  }

  /** Any other part of the tree: nodes are `{Type: fields}`; some typed fields hold fields directly. */
  private visit(value: unknown, scope: ReadonlySet<string>, depth: number): void {
    this.checkDepth(depth);
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item, scope, depth + 1);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value as Node)) {
      const fields = inner as Node;
      // A relation held in a typed field rather than as a RangeVar node counts all the same.
      if (key !== 'RangeVar' && fields !== null && typeof fields === 'object' && typeof fields.relname === 'string') {
        this.relation(fields, scope);
        continue;
      }
      switch (key) {
        case 'SelectStmt':
          this.select(fields, scope, depth + 1);
          continue;
        case 'RangeVar':
          this.relation(fields, scope);
          continue;
        case 'FuncCall':
          this.reads.functions.push(names(fields.funcname));
          break;
        case 'A_Expr':
          this.reads.operators.push(names(fields.name));
          break;
        case 'typeName':
        case 'TypeName':
          this.reads.types.push(names(fields.names));
          break;
        case 'IntoClause':
          throw new InvalidArgumentError(`${this.what} must only read: SELECT … INTO creates a table`);
        case 'LockingClause':
          throw new InvalidArgumentError(`${this.what} must only read: FOR UPDATE/SHARE locks rows`);
      }
      this.visit(inner, scope, depth + 1);
    }
  }

  private checkDepth(depth: number): void {
    if (depth > MAX_DEPTH) throw new InvalidArgumentError(`${this.what} is nested too deeply`);
  }

  private relation(range: Node, scope: ReadonlySet<string>): void {
    const name = [range.catalogname, range.schemaname, range.relname].filter((p): p is string => typeof p === 'string' && p !== '');
    // Only an unqualified name can mean a CTE.
    if (name.length === 1 && scope.has(name[0]!)) return;
    this.reads.relations.push(name);
  }
}

/** A list of `{String: {sval}}` nodes as its strings. */
function names(list: unknown): QualifiedName {
  return ((list as Node[] | undefined) ?? []).map((n) => String((n.String as Node | undefined)?.sval ?? ''));
}
