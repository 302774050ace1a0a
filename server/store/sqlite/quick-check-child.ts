/**
 * Child process of quickCheck (integrity-check.ts): opens the database read-only, runs
 * `PRAGMA quick_check(100)` and sends the result to the parent. A separate process, not a
 * thread, so the parent can kill it at any time: SQLite's check cannot be interrupted from
 * JavaScript while it runs.
 */
import Database from 'better-sqlite3';

const path = process.argv[2];
const send = (msg: unknown): void => {
  process.send?.(msg, () => process.exit(0));
};
try {
  if (!path) throw new Error('no database path given');
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const rows = db.pragma('quick_check(100)') as { quick_check: string }[];
  db.close();
  send({ problems: rows.map((r) => r.quick_check).filter((r) => r !== 'ok') });
} catch (err) {
  // An unreadable header (SQLITE_NOTADB) or a page the check cannot walk (SQLITE_CORRUPT) is damage too.
  send({ problems: [`${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}`] });
}
