/**
 * Import and export formats of the inventory (ADR 0018 §3). Pure functions, no I/O.
 *
 * CSV (RFC 4180, header row; LF or CRLF): columns by header name — hostname, ip, idc, rack,
 * business, kind, parent, lifecycle, tags — where ip and tags hold several values separated by
 * ";", and any other column is an attribute (text). An empty cell is "not set" (in merge mode it
 * removes that field from the stored record). Export neutralises cells that a spreadsheet would
 * run as a formula (starting with = + - @) with a leading "'", which import strips again.
 * JSON: `{"hosts":[records]}` or `[records]`; a record's absent keys are "not given".
 *
 * Every row is checked against the record schema and reported with its line and column;
 * parsing is bounded (rows, columns, cell size) and linear.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { inventoryRecordSchema, type importProblemSchema, type InventoryRecord } from '../../../schemas/api/inventory.js';
import { compileGuard, type Guard } from '../../../schemas/validate.js';

export const IMPORT_MAX_ROWS = 200_000;
export const IMPORT_MAX_COLUMNS = 128;
export const IMPORT_MAX_CELL = 64 * 1024;
/** Largest record (as JSON) an import writes. */
export const IMPORT_MAX_RECORD = 256 * 1024;
/** Problems kept (the answer says how many there were). */
export const IMPORT_MAX_PROBLEMS = 1000;

/** One problem of a file (schemas/api/inventory.ts importProblemSchema). */
export type ImportProblem = FromSchema<typeof importProblemSchema>;

/** One row of a file: the record it states and which fields it speaks for (merge mode). */
export interface ImportRow {
  readonly line: number;
  readonly record: InventoryRecord;
  /** Record fields the row gives (a CSV header column, a JSON key), set or — when absent from `record` — removed. */
  readonly fields: ReadonlySet<string>;
  /** Attribute names the row gives (set, or removed when absent from record.attributes). */
  readonly attributes: ReadonlySet<string>;
}

export interface ParsedImport {
  readonly rows: ImportRow[];
  readonly problems: ImportProblem[];
  /** Total problems found (problems holds at most IMPORT_MAX_PROBLEMS). */
  readonly problemCount: number;
}

const recordGuard: Guard<InventoryRecord> = compileGuard(inventoryRecordSchema);
export const RECORD_FIELDS = ['ips', 'idc', 'rack', 'business', 'kind', 'parent', 'lifecycle', 'tags', 'attributes'] as const;
const csvColumns = new Map<string, string>(Object.entries({ hostname: 'hostname', ip: 'ips', ips: 'ips', idc: 'idc', rack: 'rack', business: 'business', kind: 'kind', parent: 'parent', lifecycle: 'lifecycle', tags: 'tags' }));
const attrNameRe = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

class Problems {
  readonly list: ImportProblem[] = [];
  count = 0;
  add(p: ImportProblem): void {
    this.count++;
    if (this.list.length < IMPORT_MAX_PROBLEMS) this.list.push(p);
  }
}

/** RFC 4180 records with the physical line each starts on. Throws a problem for a broken quote. */
export function parseCsv(text: string, problems: Problems): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const cells: string[] = [];
    let bad = false;
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        let closed = false;
        let from = i;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += text.slice(from, i + 1);
              i += 2;
              from = i;
              continue;
            }
            cell += text.slice(from, i);
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          i++;
          if (i - from + cell.length > IMPORT_MAX_CELL) break;
        }
        if (!closed) {
          problems.add({ line: start, message: i - from + cell.length > IMPORT_MAX_CELL ? `a cell is longer than ${IMPORT_MAX_CELL} characters` : 'a quoted cell is not closed (a " is missing); nothing after this line could be read' });
          return out;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (!bad) problems.add({ line, message: 'characters after a closing quote (write "" for a quote inside a quoted cell)' });
          bad = true;
          while (i < n && text[i] !== ',' && text[i] !== '\n') i++;
        }
      } else {
        const from = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
        cell = text.slice(from, i);
        if (cell.includes('"') && !bad) {
          problems.add({ line, message: 'a " inside an unquoted cell (quote the whole cell and double the quote)' });
          bad = true;
        }
        if (cell.length > IMPORT_MAX_CELL && !bad) {
          problems.add({ line, message: `a cell is longer than ${IMPORT_MAX_CELL} characters` });
          bad = true;
        }
      }
      cells.push(cell);
      if (cells.length > IMPORT_MAX_COLUMNS) {
        if (!bad) problems.add({ line: start, message: `more than ${IMPORT_MAX_COLUMNS} columns` });
        bad = true;
        cells.length = 0;
      }
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    // A blank line (one empty cell) is skipped.
    if (!bad && !(cells.length === 1 && cells[0] === '')) out.push({ line: start, cells });
    if (out.length > IMPORT_MAX_ROWS + 1) {
      problems.add({ line: start, message: `more than ${IMPORT_MAX_ROWS} rows` });
      return out;
    }
  }
  return out;
}

function unneutralise(cell: string): string {
  return cell.length > 1 && cell[0] === "'" && '=+-@'.includes(cell[1]!) ? cell.slice(1) : cell;
}

function splitList(cell: string): string[] {
  return cell.split(/[;,]/).map((s) => s.trim()).filter((s) => s !== '');
}

/** Maps a schema problem path ("/ips/0", "/attributes/x") to the CSV column or JSON field. */
function columnOf(path: string, csv: boolean): string | undefined {
  const seg = path.split('/').filter(Boolean);
  if (seg.length === 0) return undefined;
  if (seg[0] === 'attributes' && seg[1] !== undefined) return csv ? seg[1] : `attributes.${seg[1]}`;
  if (seg[0] === 'ips') return csv ? 'ip' : 'ips';
  return seg[0];
}

function checkRecord(rec: unknown, line: number, csv: boolean, problems: Problems): rec is InventoryRecord {
  const found = recordGuard.check(rec);
  const hostname = typeof (rec as { hostname?: unknown }).hostname === 'string' ? (rec as { hostname: string }).hostname : undefined;
  const seen = new Set<string>();
  for (const p of found) {
    const column = columnOf(p.path, csv);
    if (seen.has(column ?? '')) continue;
    seen.add(column ?? '');
    problems.add({ line, ...(column !== undefined ? { column } : {}), ...(hostname !== undefined ? { hostname: hostname.slice(0, 253) } : {}), message: `${column ?? 'record'}: ${p.message}` });
  }
  const attrs = (rec as { attributes?: unknown }).attributes;
  let bad = found.length > 0;
  if (attrs && typeof attrs === 'object') {
    for (const k of Object.keys(attrs)) {
      if (!forbiddenKeys.has(k)) continue;
      problems.add({ line, column: k, message: `attribute name "${k}" is not allowed` });
      bad = true;
    }
  }
  if (!bad && JSON.stringify(rec).length > IMPORT_MAX_RECORD) {
    problems.add({ line, ...(hostname !== undefined ? { hostname: hostname.slice(0, 253) } : {}), message: `the record is larger than ${IMPORT_MAX_RECORD / 1024} KiB` });
    bad = true;
  }
  return !bad;
}

export function parseCsvImport(text: string): ParsedImport {
  const problems = new Problems();
  const records = parseCsv(text, problems);
  const rows: ImportRow[] = [];
  if (records.length === 0) {
    if (problems.count === 0) problems.add({ line: 1, message: 'the file is empty: the first line is the header (hostname,ip,idc,…)' });
    return { rows, problems: problems.list, problemCount: problems.count };
  }
  const header = records[0]!;
  const cols = header.cells.map((h) => {
    const name = h.trim();
    const known = csvColumns.get(name.toLowerCase());
    return known !== undefined ? { field: known, attr: undefined } : { field: 'attributes', attr: name };
  });
  const before = problems.count;
  const seen = new Set<string>();
  header.cells.forEach((h, i) => {
    const c = cols[i]!;
    const key = c.attr ?? c.field;
    if (seen.has(key)) problems.add({ line: header.line, column: h, message: `column "${h.slice(0, 64)}" appears twice` });
    seen.add(key);
    if (c.attr !== undefined && (!attrNameRe.test(c.attr) || forbiddenKeys.has(c.attr))) problems.add({ line: header.line, column: h.slice(0, 64), message: `"${h.slice(0, 64)}" is neither a known column (hostname, ip, idc, rack, business, kind, parent, lifecycle, tags) nor a valid attribute name (letters, digits, "_" or "-", starting with a letter or "_")` });
  });
  if (!cols.some((c) => c.field === 'hostname')) problems.add({ line: header.line, column: 'hostname', message: 'the header has no hostname column' });
  // A bad header makes every row meaningless; a broken row further down does not stop the others' checks.
  if (problems.count > before) return { rows, problems: problems.list, problemCount: problems.count };
  const fields = new Set(cols.filter((c) => c.field !== 'hostname' && c.field !== 'attributes').map((c) => c.field));
  const attrNames = new Set(cols.filter((c) => c.attr !== undefined).map((c) => c.attr!));
  for (const r of records.slice(1)) {
    if (r.cells.length !== cols.length) {
      problems.add({ line: r.line, message: `${r.cells.length} cells where the header has ${cols.length} columns` });
      continue;
    }
    const rec: Record<string, unknown> = {};
    const attrs: Record<string, string> = {};
    r.cells.forEach((raw, i) => {
      const c = cols[i]!;
      const cell = unneutralise(raw.trim());
      if (cell === '') return;
      if (c.attr !== undefined) attrs[c.attr] = cell;
      else if (c.field === 'ips' || c.field === 'tags') rec[c.field] = splitList(cell);
      else rec[c.field] = cell;
    });
    if (Object.keys(attrs).length > 0) rec['attributes'] = attrs;
    if (rec['hostname'] === undefined) {
      problems.add({ line: r.line, column: 'hostname', message: 'hostname: the cell is empty' });
      continue;
    }
    if (checkRecord(rec, r.line, true, problems)) rows.push({ line: r.line, record: rec as InventoryRecord, fields, attributes: attrNames });
  }
  checkDuplicates(rows, problems);
  return { rows, problems: problems.list, problemCount: problems.count };
}

function checkDuplicates(rows: readonly ImportRow[], problems: Problems): void {
  const first = new Map<string, number>();
  for (const r of rows) {
    const at = first.get(r.record.hostname);
    if (at !== undefined) problems.add({ line: r.line, column: 'hostname', hostname: r.record.hostname, message: `${r.record.hostname} is already on line ${at}` });
    else first.set(r.record.hostname, r.line);
  }
}

/** Lines where each element of the record array starts (a scan that skips strings). */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let arrayDepth = -1;
  let lastKey = '';
  let expect = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (expect && depth === arrayDepth && c !== ']') {
      lines.push(line);
      expect = false;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && arrayDepth < 0) lastKey = text.slice(i + 1, j);
      i = j + 1;
      continue;
    }
    if (c === '[' || c === '{') {
      if (c === '[' && arrayDepth < 0 && (depth === 0 || (depth === 1 && lastKey === 'hosts'))) {
        arrayDepth = depth + 1;
        expect = true;
      }
      depth++;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === arrayDepth) expect = true;
    i++;
  }
  return lines;
}

export function parseJsonImport(text: string): ParsedImport {
  const problems = new Problems();
  const rows: ImportRow[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : 1;
    problems.add({ line, message: `not valid JSON: ${(err as Error).message.slice(0, 200)}` });
    return { rows, problems: problems.list, problemCount: problems.count };
  }
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray((doc as { hosts?: unknown }).hosts) ? (doc as { hosts: unknown[] }).hosts : undefined;
  if (!list) {
    problems.add({ line: 1, message: 'expected {"hosts": [records]} or an array of records' });
    return { rows, problems: problems.list, problemCount: problems.count };
  }
  if (list.length > IMPORT_MAX_ROWS) {
    problems.add({ line: 1, message: `more than ${IMPORT_MAX_ROWS} records` });
    return { rows, problems: problems.list, problemCount: problems.count };
  }
  const lines = elementLines(text);
  list.forEach((rec, i) => {
    const line = lines[i] ?? 1;
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) {
      problems.add({ line, message: `record ${i + 1} is not an object` });
      return;
    }
    if (!checkRecord(rec, line, false, problems)) return;
    const r = rec as InventoryRecord;
    rows.push({ line, record: r, fields: new Set(Object.keys(r).filter((k) => k !== 'hostname' && k !== 'attributes')), attributes: new Set(Object.keys(r.attributes ?? {})) });
  });
  checkDuplicates(rows, problems);
  return { rows, problems: problems.list, problemCount: problems.count };
}

/** What the row makes of the stored record: merge keeps fields the row does not give; replace is the row. */
export function applyRow(existing: InventoryRecord | undefined, row: ImportRow, mode: 'merge' | 'replace'): InventoryRecord {
  if (mode === 'replace' || !existing) return canonical(row.record);
  const out: Record<string, unknown> = { ...existing };
  for (const f of row.fields) {
    const v = (row.record as Record<string, unknown>)[f];
    if (v === undefined) delete out[f];
    else out[f] = v;
  }
  if (row.attributes.size > 0) {
    const attrs: Record<string, string | number | boolean> = { ...(existing.attributes ?? {}) };
    for (const a of row.attributes) {
      const v = row.record.attributes?.[a];
      if (v === undefined) delete attrs[a];
      else attrs[a] = v;
    }
    if (Object.keys(attrs).length > 0) out['attributes'] = attrs;
    else delete out['attributes'];
  }
  return canonical(out as InventoryRecord);
}

/** A record with keys in a fixed order and empty lists/maps left out (so equal records compare equal as JSON). */
export function canonical(r: InventoryRecord): InventoryRecord {
  const out: Record<string, unknown> = { hostname: r.hostname };
  for (const f of RECORD_FIELDS) {
    const v = (r as Record<string, unknown>)[f];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (f === 'attributes') {
      const keys = Object.keys(v as object).sort();
      if (keys.length === 0) continue;
      const a: Record<string, unknown> = {};
      for (const k of keys) a[k] = (v as Record<string, unknown>)[k];
      out[f] = a;
    } else out[f] = v;
  }
  return out as InventoryRecord;
}

/** Fields in which two records differ. */
export function changedFields(a: InventoryRecord, b: InventoryRecord): string[] {
  const out: string[] = [];
  for (const f of RECORD_FIELDS) {
    const x = (a as Record<string, unknown>)[f];
    const y = (b as Record<string, unknown>)[f];
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(f);
  }
  return out;
}

function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The records as CSV (the import's columns; attributes as further columns, sorted by name). */
export function exportCsv(records: readonly InventoryRecord[]): string {
  const attrNames = [...new Set(records.flatMap((r) => Object.keys(r.attributes ?? {})))].sort();
  const lines = [['hostname', 'ip', 'idc', 'rack', 'business', 'kind', 'parent', 'lifecycle', 'tags', ...attrNames].map(csvCell).join(',')];
  for (const r of records) {
    const cells = [r.hostname, (r.ips ?? []).join(';'), r.idc ?? '', r.rack ?? '', r.business ?? '', r.kind ?? '', r.parent ?? '', r.lifecycle ?? '', (r.tags ?? []).join(';'), ...attrNames.map((a) => (r.attributes?.[a] === undefined ? '' : String(r.attributes[a])))];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function exportJson(records: readonly InventoryRecord[]): string {
  return `{"hosts":[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`;
}
