/**
 * LineIndex (compiler/manifest/yaml-source.ts) computes positions only when a problem is
 * reported; it must give exactly the line and column yaml's LineCounter gives during a parse,
 * for every offset of texts with block scalars, quoted multi-line strings, CRLF, comments,
 * flow collections and a missing final newline.
 */
import t from 'tap';
import { LineCounter, parseDocument } from 'yaml';
import { LineIndex } from '../../../compiler/manifest/yaml-source.js';

const texts = [
  'resources:\n  - type: file\n    path: /a\n',
  'vars:\n  text: |\n    one\n    two\n\n  folded: >\n    a\n    b\nresources: []',
  'a: "multi\n  line\n  quoted"\nb: \'single\n  quoted\'\n# comment\nc: [1,\n  2]\n',
  'a: 1\r\nb:\r\n  - x\r\n  - { k: v,\r\n      l: w }\r\n',
  '',
  '\n\n\nkey: value',
];

t.test('same positions as yaml LineCounter at every offset', async (t) => {
  for (const text of texts) {
    const lc = new LineCounter();
    parseDocument(text, { lineCounter: lc });
    const idx = new LineIndex(text);
    let same = true;
    for (let off = 0; off <= text.length; off++) {
      const a = lc.linePos(off);
      const b = idx.position(off);
      if (a.line !== b.line || a.col !== b.column) {
        same = false;
        t.fail(`offset ${off} of ${JSON.stringify(text)}: LineCounter ${a.line}:${a.col}, LineIndex ${b.line}:${b.column}`);
        break;
      }
    }
    t.ok(same, JSON.stringify(text.slice(0, 30)));
  }
});
