/**
 * Plain scalars resolved exactly as PyYAML's SafeLoader resolves them (YAML 1.1 as Ansible and
 * Salt read it), on top of the `yaml` package's 1.1 schema, which is looser:
 * - `y`, `Y`, `n`, `N` are strings (the package makes them booleans; PyYAML's bool is only
 *   yes/no/true/false/on/off in three spellings each);
 * - a float needs a dot, and an exponent needs a sign: `1e3` and `1.0e3` are strings, `1.0e+3`
 *   is 1000.0; `-.5` and `.` are strings (PyYAML allows a sign only before a digit or `.inf`);
 *   a bare key such as `e1` stays a string (the package read it as NaN);
 * - a decimal integer has no leading zero: `08` and `09` are strings (`017` is octal 15).
 * Everything else (null, octal/hex/binary/sexagesimal integers, .inf/.nan, timestamps, merge
 * keys) already matches. The table in test/compiler/jinja/py-yaml-scalars.test.ts is checked
 * against PyYAML's own output.
 */
import type YAML from 'yaml';

const BOOL_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const INT_DEC = /^[-+]?(?:0|[1-9][0-9_]*)$/;
const FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)$/;

type Tag = Exclude<YAML.Tags[number], string>;

/** PyYAML's octal: `0` then digits and `_` (`0_` is 0, where the package read NaN). */
function octal(str: string): number {
  const s = str.replace(/_/g, '');
  const sign = s.startsWith('-') ? -1 : 1;
  const digits = s.replace(/^[-+]?0/, '');
  return sign * (digits === '' ? 0 : parseInt(digits, 8));
}

function withTest(t: Tag, test: RegExp): Tag {
  return { ...t, test } as Tag;
}

/** The `yaml` package's 1.1 tags with bool, decimal int and float tests made PyYAML's. */
export function pyYamlScalarTags(tags: YAML.Tags): YAML.Tags {
  const out: YAML.Tags = [];
  for (const t of tags) {
    if (typeof t === 'string' || !('test' in t) || !(t.test instanceof RegExp)) {
      out.push(t);
      continue;
    }
    const { tag, format } = t as Tag & { format?: string };
    const test = t.test.source;
    if (tag === 'tag:yaml.org,2002:bool') out.push(withTest(t, test.includes('N|n') || test.includes('[Nn]o') ? BOOL_FALSE : BOOL_TRUE));
    else if (tag === 'tag:yaml.org,2002:int' && format === undefined) out.push(withTest(t, INT_DEC));
    else if (tag === 'tag:yaml.org,2002:int' && format === 'OCT') out.push({ ...t, resolve: octal } as Tag);
    else if (tag === 'tag:yaml.org,2002:float' && format === 'EXP') continue;
    else if (tag === 'tag:yaml.org,2002:float' && format === undefined && !test.includes('inf')) out.push(withTest(t, FLOAT));
    else out.push(t);
  }
  return out;
}
