/**
 * Python's `json.dumps` (what Ansible's to_json / to_nice_json and Jinja2's tojson call), byte for
 * byte: `', '` / `': '` separators, `ensure_ascii`, optional indent and sorted keys, floats as
 * Python prints them.
 */
import { JinjaRuntimeError, PyFloat, PyUndefined, floatRepr, isMapping, unwrapString } from './py-values.js';

export interface JsonOptions {
  indent?: number | string | undefined;
  sortKeys?: boolean;
  ensureAscii?: boolean;
  separators?: [string, string] | undefined;
}

function quote(s: string, ascii: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (ascii && c > 0x7e)) {
      if (c > 0xffff) {
        const hi = Math.floor((c - 0x10000) / 0x400) + 0xd800;
        const lo = ((c - 0x10000) % 0x400) + 0xdc00;
        out += `\\u${hi.toString(16).padStart(4, '0')}\\u${lo.toString(16).padStart(4, '0')}`;
      } else out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}

export function pyJsonDumps(value: unknown, opts: JsonOptions = {}): string {
  const ascii = opts.ensureAscii ?? true;
  const indent = opts.indent === undefined || opts.indent === null ? undefined : typeof opts.indent === 'number' ? ' '.repeat(opts.indent) : opts.indent;
  const [itemSep, keySep] = opts.separators ?? (indent !== undefined ? [',', ': '] : [', ', ': ']);
  const enc = (v: unknown, level: number): string => {
    if (level > 200) throw new JinjaRuntimeError('value nested too deeply for JSON', 'LIMIT');
    v = unwrapString(v);
    if (v instanceof PyUndefined) v.fail();
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'string') return quote(v, ascii);
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return Number.isInteger(v) ? String(v) : floatRepr(v);
    }
    if (v instanceof PyFloat) return floatRepr(v.value);
    const nl = indent === undefined ? '' : '\n' + indent.repeat(level + 1);
    const end = indent === undefined ? '' : '\n' + indent.repeat(level);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return '[' + nl + v.map((x) => enc(x, level + 1)).join(itemSep + nl) + end + ']';
    }
    if (isMapping(v)) {
      let keys = Object.keys(v);
      if (keys.length === 0) return '{}';
      if (opts.sortKeys) keys = [...keys].sort();
      return '{' + nl + keys.map((k) => quote(k, ascii) + keySep + enc(v[k], level + 1)).join(itemSep + nl) + end + '}';
    }
    throw new JinjaRuntimeError(`Object of type ${typeof v} is not JSON serializable`);
  };
  return enc(value, 0);
}
