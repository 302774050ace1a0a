/** The import formats: RFC 4180 details, lines of problems, merge/replace, export neutralisation. */
import t from 'tap';
import { applyRow, exportCsv, parseCsvImport, parseJsonImport } from '../../../../server/services/inventory/import-format.js';

t.test('CSV: quotes, CRLF, BOM, blank lines, lists', async (t) => {
  const text = '\uFEFFhostname,ip,tags,note\r\na-1,"10.0.0.1;10.0.0.2","x;y","said ""hi"", twice"\r\n\r\nb-1,10.0.0.3,,"two\nlines"\r\nc-1,"10.0.0.4,10.0.0.5",z,\r\n';
  const p = parseCsvImport(text);
  t.same(p.problems, []);
  t.same(p.rows.map((r) => [r.line, r.record]), [
    [2, { hostname: 'a-1', ips: ['10.0.0.1', '10.0.0.2'], tags: ['x', 'y'], attributes: { note: 'said "hi", twice' } }],
    [4, { hostname: 'b-1', ips: ['10.0.0.3'], attributes: { note: 'two\nlines' } }],
    [6, { hostname: 'c-1', ips: ['10.0.0.4', '10.0.0.5'], tags: ['z'] }],
  ], 'lines are physical (a quoted newline counts), a blank line is skipped, lists split on ";" (or ",")');
});

t.test('CSV problems carry line and column; nothing is half-read', async (t) => {
  const p = parseCsvImport('hostname,lifecycle,bad col\nx-1,online,1\n');
  t.match(p.problems, [{ line: 1, column: 'bad col' }], 'a header that is no attribute name');
  const q = parseCsvImport('hostname,lifecycle\nx-1,online\nx-1,standby\ny-1,"open\n');
  t.same(q.problems.map((x) => x.line), [4, 3], 'an unclosed quote, and the rows before it still checked (a hostname given twice)');
  t.match(parseCsvImport('idc\nsz\n').problems, [{ line: 1, message: /no hostname column/ }]);
  t.match(parseCsvImport('hostname,attr\nx-1,a"b\n').problems, [{ line: 2, message: /inside an unquoted cell/ }]);
  t.match(parseCsvImport('hostname,constructor\nx-1,1\n').problems, [{ line: 1, column: 'constructor' }], 'prototype keys are no attribute');
  t.match(parseCsvImport('').problems, [{ line: 1, message: /empty/ }]);
});

t.test('JSON: both shapes, the line of each record', async (t) => {
  t.same(parseJsonImport('[{"hostname":"a"}]').rows.map((r) => r.record.hostname), ['a']);
  const p = parseJsonImport('{"meta": {"x": [1, {"y": 2}]},\n "hosts": [\n  {"hostname": "a"},\n  "no",\n  {"hostname": "b", "tags": ["t;u"]}\n]}');
  t.same(p.problems.map((x) => [x.line, x.column ?? null]), [[4, null], [5, 'tags']]);
  t.match(parseJsonImport('{"hosts": [').problems, [{ line: 1, message: /not valid JSON/ }]);
  t.match(parseJsonImport('[{"hostname":"a","attributes":{"__proto__":1}}]').problems, [{ column: '__proto__' }]);
  t.match(parseJsonImport(JSON.stringify([{ hostname: 'a' }, { hostname: 'big', attributes: { blob: 'x'.repeat(300_000) } }])).problems, [{ hostname: 'big', message: /larger than 256 KiB/ }], 'a record is bounded');
});

t.test('merge keeps what the row does not give; replace is the row', async (t) => {
  const existing = { hostname: 'a', idc: 'sz', rack: 'r1', tags: ['x'], attributes: { owner: 'ana', slot: '3' } };
  const [row] = parseCsvImport('hostname,idc,rack,owner\na,gz,,bob\n').rows;
  t.same(applyRow(existing, row!, 'merge'), { hostname: 'a', idc: 'gz', tags: ['x'], attributes: { owner: 'bob', slot: '3' } }, 'an empty cell removes; absent columns stay');
  t.same(applyRow(existing, row!, 'replace'), { hostname: 'a', idc: 'gz', attributes: { owner: 'bob' } });
});

t.test('export neutralises formulas and imports back', async (t) => {
  const csv = exportCsv([{ hostname: 'a', attributes: { cmd: '=HYPERLINK("x")', neg: '-1', at: '@x' } }]);
  t.match(csv, /'=HYPERLINK\(""x""\)/);
  t.match(csv, /,'-1/);
  const back = parseCsvImport(csv);
  t.same(back.rows[0]!.record.attributes, { at: '@x', cmd: '=HYPERLINK("x")', neg: '-1' }, 'the leading quote is stripped on import');
});
