/**
 * Every `stead <command> --help` says what the command does and lists its exit codes (issue 8
 * item 15); a mistyped command gets a did-you-mean; `stead validate DIR` takes the repository
 * positionally like `stead apply` (and --repo still works).
 */
import t from 'tap';
import { join } from 'node:path';
import { commands } from '../../cli/main.js';
import { repoRoot, runStead } from '../helpers/cli.js';

for (const name of Object.keys(commands)) {
  t.test(`stead ${name} --help`, async (t) => {
    const r = await runStead([name, '--help']);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    t.match(lines[0], new RegExp(`^Usage: stead ${name}\\b`));
    // A description: a line of prose between the usage line and the first option.
    const firstOption = lines.findIndex((l) => /^\s+-/.test(l));
    const prose = lines.slice(1, firstOption).filter((l) => /^[A-Z][a-z]+[ ,].*[a-z]/.test(l));
    t.ok(prose.length > 0, `a description before the options:\n${r.stdout}`);
    const exit = /^Exit (?:codes|status):[ \n]\s*(.*(?:\n(?!\n).*)*)/m.exec(r.stdout); // a sentence or an indented list
    t.ok(exit, 'an "Exit codes:" paragraph');
    t.match(exit?.[1] ?? '', /\b0\b/, 'says what 0 means');
    t.match(exit?.[1] ?? '', /\b64\s+usage error/, 'and 64');
    t.match(r.stdout, /-h, --help/i, 'lists --help');
    const again = await runStead(['help', name]);
    t.equal(again.stdout, r.stdout, '`stead help NAME` prints the same');
  });
}

t.test('a mistyped command: did you mean, exit 64', async (t) => {
  for (const [typo, meant] of [['aply', 'apply'], ['valdiate', 'validate'], ['agnet', 'agent'], ['sever', 'server'], ['rendr', 'render']]) {
    const r = await runStead([typo!]);
    t.equal(r.code, 64);
    t.match(r.stderr, `stead: unknown command "${typo}"; did you mean "${meant}"?`);
  }
  const far = await runStead(['frobnicate']);
  t.equal(far.code, 64);
  t.match(far.stderr, /^stead: unknown command "frobnicate"\nUsage:/, 'no suggestion when nothing is close');
});

t.test('stead validate DIR, positionally, and the older --repo DIR', async (t) => {
  const demo = join(repoRoot, 'manifests/demo');
  const key = ['--key-file', join(repoRoot, 'manifests/demo-secret.key')];
  const pos = await runStead(['validate', demo, ...key]);
  t.equal(pos.code, 0, pos.stderr);
  t.match(pos.stdout, `${demo}: valid`);
  const flag = await runStead(['validate', '--repo', demo, ...key]);
  t.equal(flag.code, 0, flag.stderr);
  t.equal(flag.stdout, pos.stdout);
  const both = await runStead(['validate', demo, '--repo', demo, ...key]);
  t.equal(both.code, 0, 'the same directory twice is fine');
  const clash = await runStead(['validate', demo, '--repo', repoRoot]);
  t.equal(clash.code, 64);
  t.match(clash.stderr, /give the repository once/);
  const two = await runStead(['validate', demo, demo]);
  t.equal(two.code, 64);
});
