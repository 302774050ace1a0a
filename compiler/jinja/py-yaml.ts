/**
 * A PyYAML-compatible block emitter: what Ansible's `to_yaml` / `to_nice_yaml` print
 * (yaml.dump with SafeDumper, allow_unicode). It reproduces PyYAML's choices that show in
 * configuration files: plain vs single- vs double-quoted scalars (YAML 1.1 implicit types get
 * quoted), indentless sequences in mappings, `-   ` padding with indent 4, folding of long
 * scalars at column 80, sorted keys unless sort_keys=False, flow style for leaf collections when
 * default_flow_style is None.
 */
import { JinjaRuntimeError, PyFloat, PyUndefined, floatRepr, isMapping, unwrapString } from './py-values.js';

export interface YamlOptions {
  indent?: number;
  sortKeys?: boolean;
  /** PyYAML default_flow_style: false = block everywhere, null = flow for collections of scalars. */
  defaultFlowStyle?: boolean | null;
  width?: number;
  explicitStart?: boolean;
}

const RESOLVES = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:<<|=)$/,
];

interface Analysis {
  empty: boolean;
  multiline: boolean;
  allowFlowPlain: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
}

/** PyYAML Emitter.analyze_scalar, condensed. */
function analyze(s: string): Analysis {
  if (s === '') return { empty: true, multiline: false, allowFlowPlain: false, allowBlockPlain: true, allowSingleQuoted: true };
  let blockInd = false;
  let flowInd = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  if (s.startsWith('---') || s.startsWith('...')) {
    blockInd = true;
    flowInd = true;
  }
  let precededByWs = true;
  let prevSpace = false;
  let prevBreak = false;
  const chars = [...s];
  chars.forEach((ch, i) => {
    const next = chars[i + 1];
    const followedByWs = next === undefined || ' \t\r\n\x85\u2028\u2029\0'.includes(next);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) {
        flowInd = true;
        blockInd = true;
      }
      if (ch === '?' || ch === ':') {
        flowInd = true;
        if (followedByWs) blockInd = true;
      }
      if (ch === '-' && followedByWs) {
        flowInd = true;
        blockInd = true;
      }
    } else {
      if (',?[]{}'.includes(ch)) flowInd = true;
      if (ch === ':') {
        flowInd = true;
        if (followedByWs) blockInd = true;
      }
      if (ch === '#' && precededByWs) {
        flowInd = true;
        blockInd = true;
      }
    }
    if ('\n\x85\u2028\u2029'.includes(ch)) lineBreaks = true;
    const c = ch.codePointAt(0) ?? 0;
    if (!(ch === '\n' || (c >= 0x20 && c <= 0x7e))) {
      const printable = c === 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) || c >= 0x10000;
      if (!printable) special = true;
    }
    if (ch === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if ('\n\x85\u2028\u2029'.includes(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = ' \t\r\n\x85\u2028\u2029\0'.includes(ch);
  });
  let allowFlowPlain = true;
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowFlowPlain = allowBlockPlain = false;
  if (spaceBreak || special) allowFlowPlain = allowBlockPlain = allowSingleQuoted = false;
  if (lineBreaks) allowFlowPlain = allowBlockPlain = false;
  if (flowInd) allowFlowPlain = false;
  if (blockInd) allowBlockPlain = false;
  void breakSpace;
  return { empty: false, multiline: lineBreaks, allowFlowPlain, allowBlockPlain, allowSingleQuoted };
}

class Writer {
  out = '';
  column = 0;
  whitespace = true;
  indention = true;
  constructor(
    readonly bestIndent: number,
    readonly bestWidth: number,
  ) {}
  write(s: string): void {
    this.out += s;
    this.column += s.length;
  }
  lineBreak(): void {
    this.out += '\n';
    this.column = 0;
    this.whitespace = true;
    this.indention = true;
  }
  writeIndent(indent: number): void {
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.lineBreak();
    if (this.column < indent) {
      this.whitespace = true;
      this.write(' '.repeat(indent - this.column));
    }
  }
  indicator(ind: string, needWs: boolean, whitespace = false, indention = false): void {
    const data = this.whitespace || !needWs ? ind : ' ' + ind;
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
    this.write(data);
  }
  plain(text: string, indent: number, split: boolean): void {
    if (text === '') return;
    if (!this.whitespace) this.write(' ');
    this.whitespace = false;
    this.indention = false;
    let spaces = false;
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : undefined;
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > this.bestWidth && split) {
            this.writeIndent(indent);
            this.whitespace = false;
            this.indention = false;
          } else this.write(text.slice(start, end));
          start = end;
        }
      } else if (ch === undefined || ch === ' ') {
        this.write(text.slice(start, end));
        start = end;
      }
      if (ch !== undefined) spaces = ch === ' ';
    }
  }
  singleQuoted(text: string, indent: number, split: boolean): void {
    this.indicator("'", true);
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : undefined;
      if (spaces) {
        if (ch === undefined || ch !== ' ') {
          if (start + 1 === end && this.column > this.bestWidth && split && start !== 0 && end !== text.length) this.writeIndent(indent);
          else this.write(text.slice(start, end));
          start = end;
        }
      } else if (breaks) {
        if (ch === undefined || ch !== '\n') {
          if (text[start] === '\n') this.lineBreak();
          for (const br of text.slice(start, end)) if (br === '\n') this.lineBreak();
          this.writeIndent(indent);
          start = end;
        }
      } else if ((ch === undefined || ch === ' ' || ch === '\n' || ch === "'") && start < end) {
        this.write(text.slice(start, end));
        start = end;
      }
      if (ch === "'") {
        this.write("''");
        start = end + 1;
      }
      if (ch !== undefined) {
        spaces = ch === ' ';
        breaks = ch === '\n';
      }
    }
    this.indicator("'", false);
  }
  doubleQuoted(text: string): void {
    this.indicator('"', true);
    let body = '';
    for (const ch of text) {
      const c = ch.codePointAt(0) ?? 0;
      if (ch === '"' || ch === '\\') body += '\\' + ch;
      else if (ch === '\n') body += '\\n';
      else if (ch === '\t') body += '\\t';
      else if (ch === '\r') body += '\\r';
      else if (ch === '\0') body += '\\0';
      else if (c < 0x20 || c === 0x7f) body += '\\x' + c.toString(16).padStart(2, '0').toUpperCase();
      else body += ch;
    }
    this.write(body);
    this.indicator('"', false);
  }
}

function scalarText(v: unknown): { text: string; implicit: boolean } {
  v = unwrapString(v);
  if (v === null || v === undefined) return { text: 'null', implicit: true };
  if (v === true) return { text: 'true', implicit: true };
  if (v === false) return { text: 'false', implicit: true };
  if (typeof v === 'number' || v instanceof PyFloat) {
    const n = Number(v);
    if (Number.isNaN(n)) return { text: '.nan', implicit: true };
    if (!Number.isFinite(n)) return { text: n > 0 ? '.inf' : '-.inf', implicit: true };
    if (typeof v === 'number' && Number.isInteger(v)) return { text: String(v), implicit: true };
    let t = floatRepr(n).toLowerCase();
    if (!t.includes('.') && t.includes('e')) t = t.replace('e', '.0e');
    return { text: t, implicit: true };
  }
  if (typeof v === 'string') return { text: v, implicit: false };
  if (v instanceof PyUndefined) v.fail();
  throw new JinjaRuntimeError(`cannot represent ${typeof v} as YAML`);
}

/** Dump `value` the way PyYAML's yaml.dump(..., Dumper=SafeDumper, allow_unicode=True) does. */
export function pyYamlDump(value: unknown, opts: YamlOptions = {}): string {
  const best = opts.indent !== undefined && opts.indent > 1 && opts.indent < 10 ? opts.indent : 2;
  const w = new Writer(best, opts.width ?? 80);
  const sortKeys = opts.sortKeys ?? true;
  const flowLeaves = opts.defaultFlowStyle === null || opts.defaultFlowStyle === undefined ? opts.defaultFlowStyle === null : false;
  let depth = 0;

  const isColl = (v: unknown): boolean => Array.isArray(v) || isMapping(v);
  const keysOf = (m: Record<string, unknown>): string[] => (sortKeys ? Object.keys(m).sort() : Object.keys(m));
  const useFlow = (v: unknown, inFlow: boolean): boolean => {
    if (inFlow) return true;
    if (Array.isArray(v)) return v.length === 0 || (flowLeaves && !v.some(isColl));
    if (isMapping(v)) {
      const vals = Object.values(v);
      return vals.length === 0 || (flowLeaves && !vals.some(isColl));
    }
    return false;
  };

  const scalar = (v: unknown, indent: number, simpleKey: boolean, inFlow: boolean): void => {
    const { text, implicit } = scalarText(v);
    if (implicit) {
      w.plain(text, indent, !simpleKey);
      return;
    }
    const a = analyze(text);
    const resolvesToOther = RESOLVES.some((re) => re.test(text));
    const plainOk = !resolvesToOther && !a.empty && (inFlow ? a.allowFlowPlain : a.allowBlockPlain) && !(simpleKey && a.multiline);
    if (plainOk) w.plain(text, indent, !simpleKey);
    else if (a.allowSingleQuoted && !(simpleKey && a.multiline)) w.singleQuoted(text, indent, !simpleKey);
    else w.doubleQuoted(text);
  };

  /** `parent` is the indent of the enclosing block collection (null at the top), as in PyYAML. */
  const node = (v: unknown, parent: number | null, ctx: { mapping: boolean; inFlow: boolean; simpleKey?: boolean }): void => {
    if (++depth > 200) throw new JinjaRuntimeError('value nested too deeply for YAML', 'LIMIT');
    try {
      v = unwrapString(v);
      const scalarIndent = parent === null ? best : parent + best;
      if (!isColl(v)) {
        scalar(v, scalarIndent, ctx.simpleKey ?? false, ctx.inFlow);
        return;
      }
      if (useFlow(v, ctx.inFlow)) {
        const fIndent = scalarIndent;
        if (Array.isArray(v)) {
          w.indicator('[', true, true);
          v.forEach((x, i) => {
            if (i > 0) w.indicator(',', false);
            if (w.column > w.bestWidth) w.writeIndent(fIndent);
            node(x, fIndent, { mapping: false, inFlow: true });
          });
          w.indicator(']', false);
        } else {
          const m = v as Record<string, unknown>;
          w.indicator('{', true, true);
          keysOf(m).forEach((k, i) => {
            if (i > 0) w.indicator(',', false);
            if (w.column > w.bestWidth) w.writeIndent(fIndent);
            scalar(k, fIndent, true, true);
            w.indicator(':', false);
            node(m[k], fIndent, { mapping: true, inFlow: true });
          });
          w.indicator('}', false);
        }
        return;
      }
      if (Array.isArray(v)) {
        const my = parent === null ? 0 : ctx.mapping && !w.indention ? parent : parent + best;
        for (const item of v) {
          w.writeIndent(my);
          w.indicator('-', true, false, true);
          node(item, my, { mapping: false, inFlow: false });
        }
        return;
      }
      const m = v as Record<string, unknown>;
      const my = parent === null ? 0 : parent + best;
      for (const k of keysOf(m)) {
        w.writeIndent(my);
        scalar(k, my + best, true, false);
        w.indicator(':', false);
        node(m[k], my, { mapping: true, inFlow: false });
      }
    } finally {
      depth--;
    }
  };

  if (opts.explicitStart) {
    w.write('---');
    w.whitespace = false;
  }
  const top = unwrapString(value);
  node(top, null, { mapping: false, inFlow: false });
  if (!isColl(top)) {
    // PyYAML ends a lone plain scalar document with an explicit end marker.
    w.lineBreak();
    w.write('...');
  }
  w.lineBreak();
  return w.out;
}
