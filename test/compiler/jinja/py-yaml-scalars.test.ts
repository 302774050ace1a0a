/**
 * Variables files read as PyYAML's SafeLoader reads them (issue 8 item 15): plain scalars, as
 * keys and as values, against a table of PyYAML 6's own results; cross-checked live against
 * PyYAML when python3 has it. And `stead render --vars` end to end with `y`/`n` keys.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { parseVarsText } from '../../../compiler/jinja/vars-file.js';
import { PyFloat } from '../../../compiler/jinja/py-values.js';
import { runStead } from '../../helpers/cli.js';

/** plain scalar → what PyYAML's safe_load makes of it (floats as ['float', n]). */
const table: [string, unknown][] = [
  ['y', 'y'], ['Y', 'Y'], ['n', 'n'], ['N', 'N'],
  ['yes', true], ['Yes', true], ['YES', true], ['no', false], ['On', true], ['OFF', false], ['true', true], ['FALSE', false],
  ['tRUE', 'tRUE'], ['yES', 'yES'],
  ['1e3', '1e3'], ['1.0e3', '1.0e3'], ['1.0e+3', ['float', 1000]], ['e1', 'e1'], ['E5', 'E5'],
  ['.5', ['float', 0.5]], ['-.5', '-.5'], ['+.5', '+.5'], ['5.', ['float', 5]], ['.', '.'], ['1_0.5', ['float', 10.5]],
  ['.inf', ['float', Infinity]], ['-.Inf', ['float', -Infinity]], ['1:30.5', ['float', 90.5]],
  ['08', '08'], ['09', '09'], ['017', 15], ['0_', 0], ['0_7', 7], ['0', 0], ['-0', 0], ['+12', 12], ['1_000', 1000],
  ['0x1F', 31], ['0x', '0x'], ['0b101', 5], ['0b', '0b'], ['-0b11', -3], ['0o17', '0o17'],
  ['1:30', 90], ['1:60', '1:60'], ['190:20:30', 685230],
  ['~', null], ['null', null], ['NULL', null], ['nULL', 'nULL'], ['1,000', '1,000'], ['1.2.3', '1.2.3'],
];

function plain(v: unknown): unknown {
  return v instanceof PyFloat ? ['float', v.value] : v;
}

t.test('values and keys resolve as in PyYAML', async (t) => {
  const text = table.map(([s], i) => `v${i}: ${s}`).join('\n');
  const vars = parseVarsText(text, false);
  table.forEach(([s, want], i) => t.same(plain(vars[`v${i}`]), want, `value ${s}`));
  // As keys: only strings and booleans make sense to compare (numbers become their JS text).
  for (const [s, want] of table.filter(([, w]) => typeof w === 'string' || typeof w === 'boolean')) {
    const k = parseVarsText(`${s}: 1`, false);
    t.same(Object.keys(k), [String(want)], `key ${s}`);
  }
});

const py = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' });
t.test('the table is PyYAML\'s own output', { skip: py.status === 0 ? false : 'python3 with PyYAML is not installed here (the table above was taken from PyYAML 6.0)' }, async (t) => {
  const script = 'import sys, yaml, json, math\nfor line in sys.stdin.read().split("\\n"):\n  v = yaml.safe_load("a: " + line)["a"]\n  print(json.dumps(["float", v if math.isfinite(v) else str(v)] if isinstance(v, float) else v))';
  const r = spawnSync('python3', ['-c', script], { input: table.map(([s]) => s).join('\n'), encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
  table.forEach(([s, want], i) => {
    const w = Array.isArray(want) && !Number.isFinite(want[1] as number) ? ['float', (want[1] as number) > 0 ? 'inf' : '-inf'] : want;
    t.same(got[i], w, `PyYAML: ${s}`);
  });
});

t.test('stead render --vars keeps y/n keys as strings', async (t) => {
  const dir = t.testdir({ 'v.yaml': 'answers:\n  y: accept\n  n: refuse\nflag: yes\n', 't.j2': '{{ answers.y }}/{{ answers.n }}/{{ flag }}\n' });
  const r = await runStead(['render', '--template', 't.j2', '--vars', 'v.yaml'], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'accept/refuse/True\n');
});
