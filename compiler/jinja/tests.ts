/**
 * Jinja2's tests (`is defined`, `is divisibleby 3`, `is sameas false`, …) and the Ansible ones
 * (`is version('1.2', '>=')`, `is truthy`, `is match`, `is subset`, …), with Python semantics.
 */
import { bindArgs, type CallArgs } from './call-args.js';
import { compareVersions } from './filters.js';
import type { RegexBudget } from '../regex/bounded-regex.js';
import { asJinja, pyRegex } from './py-regex.js';
import {
  JinjaRuntimeError,
  PyFloat,
  PyUndefined,
  isMapping,
  isNumber,
  num,
  pyCmp,
  pyEq,
  pyIn,
  pyStr,
  truthy,
  unwrapString,
} from './py-values.js';

/** What a test may use of the render: its regular-expression work budget. */
export interface TestRuntime {
  readonly regexBudget: RegexBudget;
}

export type Test = (value: unknown, args: CallArgs, rt: TestRuntime) => boolean;

/** Tests that accept an undefined value (every other test raises on one). */
export const UNDEFINED_OK_TESTS = new Set(['defined', 'undefined', 'none', 'string', 'number', 'mapping', 'iterable', 'sequence', 'boolean', 'integer', 'float', 'callable', 'sameas']);

function bool(v: unknown, convert: boolean): boolean {
  if (convert) {
    const s = unwrapString(v);
    if (typeof s === 'string') return ['yes', 'on', '1', 'true'].includes(s.toLowerCase());
  }
  return truthy(v);
}

const VERSION_OPS: Record<string, (c: number) => boolean> = {
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

function version(v: unknown, a: CallArgs): boolean {
  const b = bindArgs('version', a, ['version', 'operator', 'strict', 'version_type'], { operator: 'eq' });
  if (b.version_type !== undefined && b.version_type !== null && b.version_type !== 'loose') {
    throw new JinjaRuntimeError(`version test: version_type '${pyStr(b.version_type)}' is not supported (only loose)`, 'UNSUPPORTED');
  }
  const op = VERSION_OPS[pyStr(b.operator)];
  if (!op) throw new JinjaRuntimeError(`version test: invalid operator ${pyStr(b.operator)}`);
  return op(compareVersions(v, b.version));
}

function regexTest(v: unknown, a: CallArgs, rt: TestRuntime, how: 'match' | 'search' | 'fullmatch' | undefined): boolean {
  const b = bindArgs('regex', a, ['pattern', 'ignorecase', 'multiline', 'match_type'], { pattern: '', match_type: 'search' });
  const type = how ?? pyStr(b.match_type);
  // `match` anchors at the start of the string (\A), even in multiline mode; `fullmatch` at both ends.
  const wrap = type === 'match' ? (s: string) => `\\A(?:${s})` : type === 'fullmatch' ? (s: string) => `\\A(?:${s})\\z` : undefined;
  const re = pyRegex(pyStr(b.pattern), { ignorecase: b.ignorecase === undefined ? false : truthy(b.ignorecase), multiline: b.multiline === undefined ? false : truthy(b.multiline) }, wrap);
  return asJinja(() => re.test(pyStr(v), rt.regexBudget));
}

export const TESTS: Record<string, Test> = {
  boolean: (v) => typeof v === 'boolean',
  callable: (v) => typeof v === 'function',
  defined: (v) => !(v instanceof PyUndefined) && v !== undefined,
  divisibleby: (v, a) => num(v) % num(a.pos[0]) === 0,
  eq: (v, a) => pyEq(v, a.pos[0]),
  equalto: (v, a) => pyEq(v, a.pos[0]),
  escaped: () => false,
  even: (v) => num(v) % 2 === 0,
  false: (v) => v === false,
  filter: () => false,
  float: (v) => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v)),
  ge: (v, a) => pyCmp(v, a.pos[0]) >= 0,
  gt: (v, a) => pyCmp(v, a.pos[0]) > 0,
  greaterthan: (v, a) => pyCmp(v, a.pos[0]) > 0,
  in: (v, a) => pyIn(v, a.pos[0]),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  iterable: (v) => {
    const s = unwrapString(v);
    return typeof s === 'string' || Array.isArray(s) || isMapping(s);
  },
  le: (v, a) => pyCmp(v, a.pos[0]) <= 0,
  lower: (v) => pyStr(v) === pyStr(v).toLowerCase(),
  lt: (v, a) => pyCmp(v, a.pos[0]) < 0,
  lessthan: (v, a) => pyCmp(v, a.pos[0]) < 0,
  mapping: (v) => isMapping(v),
  ne: (v, a) => !pyEq(v, a.pos[0]),
  none: (v) => v === null,
  number: (v) => isNumber(v) || typeof v === 'boolean',
  odd: (v) => num(v) % 2 === 1 || num(v) % 2 === -1,
  sameas: (v, a) => (isNumber(v) && isNumber(a.pos[0]) ? num(v) === num(a.pos[0]) : v === a.pos[0]),
  sequence: (v) => {
    const s = unwrapString(v);
    return typeof s === 'string' || Array.isArray(s) || isMapping(s);
  },
  string: (v) => typeof unwrapString(v) === 'string',
  test: () => false,
  true: (v) => v === true,
  undefined: (v) => v instanceof PyUndefined || v === undefined,
  upper: (v) => pyStr(v) === pyStr(v).toUpperCase(),
  // ---- Ansible ----
  version: version,
  version_compare: version,
  truthy: (v, a) => bool(v, a.pos[0] !== undefined ? truthy(a.pos[0]) : a.kw.convert_bool !== undefined ? truthy(a.kw.convert_bool) : false),
  falsy: (v, a) => !bool(v, a.pos[0] !== undefined ? truthy(a.pos[0]) : a.kw.convert_bool !== undefined ? truthy(a.kw.convert_bool) : false),
  match: (v, a, rt) => regexTest(v, a, rt, 'match'),
  search: (v, a, rt) => regexTest(v, a, rt, 'search'),
  regex: (v, a, rt) => regexTest(v, a, rt, undefined),
  subset: (v, a) => (v as unknown[]).every((x) => pyIn(x, a.pos[0])),
  superset: (v, a) => (a.pos[0] as unknown[]).every((x) => pyIn(x, v)),
  contains: (v, a) => pyIn(a.pos[0], v),
  abs: (v) => pyStr(v).startsWith('/'),
  any: (v) => (v as unknown[]).some((x) => truthy(x)),
  all: (v) => (v as unknown[]).every((x) => truthy(x)),
};
TESTS['=='] = TESTS.eq as Test;
TESTS['!='] = TESTS.ne as Test;
TESTS['<'] = TESTS.lt as Test;
TESTS['<='] = TESTS.le as Test;
TESTS['>'] = TESTS.gt as Test;
TESTS['>='] = TESTS.ge as Test;
