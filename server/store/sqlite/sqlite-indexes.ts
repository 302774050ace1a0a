/**
 * Declared indexes of the SQLite store as expression indexes on the JSON document:
 * `CREATE [UNIQUE] INDEX "<table>__<name>" ON "<table>" (json_extract(doc, '$."f"'), …)
 * [WHERE json_type(doc, '$."f"') IS NOT NULL AND …]`. The same expressions appear in
 * compiled filters and sorts, so the planner uses them.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../store-error.js';
import type { IndexSpec } from '../types.js';
import { fieldExpr, typeExpr } from './compile-filter.js';
import { toStoreError } from './sqlite-errors.js';

/** indexSql is the exact CREATE INDEX statement for a spec (compared with sqlite_master to detect changes). */
export function indexSql(table: string, ix: IndexSpec): string {
  const fields = Object.keys(ix.fields);
  const cols = fields.map(fieldExpr).join(', ');
  const where = ix.partialExists === true
    ? ` WHERE ${fields.filter((f) => f !== '_id').map((f) => `${typeExpr(f)} IS NOT NULL`).join(' AND ') || '1'}`
    : '';
  return `CREATE ${ix.unique === true ? 'UNIQUE ' : ''}INDEX "${table}__${ix.name}" ON "${table}" (${cols})${where}`;
}

/**
 * syncIndexes creates the declared indexes that are missing and re-creates those whose
 * definition changed, in one IMMEDIATE transaction. Indexes not in the list are left alone
 * (as on MongoDB): a caller may open a collection without repeating its indexes. A unique
 * index that existing documents violate throws BAD_INDEX.
 */
export function syncIndexes(db: Database.Database, table: string, indexes: readonly IndexSpec[]): void {
  const existing = new Map(
    (db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).all(table) as { name: string; sql: string }[])
      .map((r) => [r.name, r.sql]),
  );
  const wanted = new Map(indexes.map((ix) => [`${table}__${ix.name}`, indexSql(table, ix)]));
  db.transaction(() => {
    for (const [name, sql] of wanted) {
      const have = existing.get(name);
      if (have === sql) continue;
      if (have !== undefined) db.exec(`DROP INDEX "${name}"`);
      try {
        db.exec(sql);
      } catch (err) {
        const mapped = toStoreError(err, table);
        throw new StoreError('BAD_INDEX', `cannot create index ${name.slice(table.length + 2)}: ${mapped instanceof Error ? mapped.message : String(mapped)}`, { cause: err });
      }
    }
  }).immediate();
}
