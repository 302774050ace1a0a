import t from 'tap';
import { globMatches, parseSelector, selectHosts, termMatches, usesFacts } from '../../../server/services/jobs/selector.js';
import { envKey, resultEnv, varsEnv } from '../../../server/services/jobs/script-env.js';

t.test('parse', async (t) => {
  t.same(parseSelector('host:web-1, group:web,attr:rack=r1,fact:os.family=debian'), [
    { kind: 'host', key: 'web-1', position: 1 },
    { kind: 'group', key: 'web', position: 13 },
    { kind: 'attr', key: 'rack', value: 'r1', position: 23 },
    { kind: 'fact', key: 'os.family', value: 'debian', position: 36 },
  ]);
  t.equal(usesFacts(parseSelector('fact:a=1')), true);
  t.equal(usesFacts(parseSelector('host:a')), false);
  const bad = (sel: string, re: RegExp) => t.throws(() => parseSelector(sel), re, sel.slice(0, 40));
  bad('host:a,', /character 8: empty term/);
  bad('web-1', /character 1: "web-1" has no kind/);
  bad('host:a,colour:red', /character 8: unknown kind "colour"/);
  bad('attr:rack', /character 1: attr: needs KEY=VALUE/);
  bad('attr:a.b=1', /not a valid attribute name/);
  bad('fact:=1', /needs KEY=VALUE/);
  bad('fact:os..x=1', /not a valid dotted fact key/);
  bad(`attr:a=${'x'.repeat(300)}`, /value longer than 256/);
  bad('host:', /host: needs a value/);
  bad('host:a/b', /"a\/b" is not a valid host/);
  bad('x'.repeat(5000), /longer than 4096/);
  bad(Array.from({ length: 201 }, (_, i) => `host:h${i}`).join(','), /more than 200 terms/);
  try {
    parseSelector('host:a, nope');
  } catch (e) {
    t.same((e as { details: unknown }).details, { position: 9 });
    t.equal((e as { status: number }).status, 400);
  }
});

t.test('match', async (t) => {
  const h = { name: 'web-1', groups: ['web'], idc: 'sz', set: 's1', env: 'prod', ip: '10.0.0.1', tags: ['canary'], attributes: { rack: 'r1', tier: 1, spare: false }, facts: { os: { family: 'debian' }, ips: ['10.0.0.1', '10.1.0.1'], n: null } };
  const m = (sel: string) => parseSelector(sel).every((term) => termMatches(term, h));
  for (const sel of ['host:web-1', 'group:web', 'idc:sz', 'set:s1', 'env:prod', 'ip:10.0.0.1', 'tag:canary', 'attr:rack=r1', 'attr:tier=1', 'attr:spare=false', 'fact:os.family=debian', 'fact:ips=10.1.0.1']) t.ok(m(sel), sel);
  for (const sel of ['host:web-2', 'group:db', 'idc:gz', 'set:s2', 'env:dev', 'ip:10.0.0.2', 'tag:web', 'attr:rack=r2', 'attr:none=1', 'fact:os.family=redhat', 'fact:os.family.x=1', 'fact:n=null', 'fact:ips=1']) t.notOk(m(sel), sel);
  t.notOk(termMatches(parseSelector('tag:a')[0]!, { name: 'x', groups: [] }), 'no tags');
  t.notOk(termMatches(parseSelector('attr:a=1')[0]!, { name: 'x', groups: [] }), 'no attributes');
  t.notOk(termMatches(parseSelector('fact:a=1')[0]!, { name: 'x', groups: [] }), 'no facts');
  t.same(selectHosts(parseSelector('host:b,host:a'), [{ name: 'a', groups: [] }, { name: 'b', groups: [] }, { name: 'c', groups: [] }]).map((x) => x.name), ['a', 'b']);
});

t.test('script env names', async (t) => {
  t.equal(envKey('STEAD_RESULT_', 'a.b-c'), 'STEAD_RESULT_A_B_C');
  t.same(varsEnv({ region: 'sz' }), { STEAD_VAR_REGION: 'sz' });
  t.same(Object.keys(resultEnv(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v'])))).length, 64, 'at most 64 results');
});

t.test('CMDB terms (ADR 0018): lifecycle, rack, business globs, kind, parent, every ip', async (t) => {
  const h = { name: 'pay-1', groups: [], ip: '10.0.0.1', ips: ['10.0.0.1', '192.168.1.9'], rack: 'r7', business: 'pay/gateway', kind: 'vm', parent: 'pm-1', lifecycle: 'maintenance' };
  const m = (sel: string) => parseSelector(sel).every((term) => termMatches(term, h));
  for (const sel of ['lifecycle:maintenance', 'rack:r7', 'business:pay/*', 'business:pay/gateway', 'business:*/gate*', 'business:p*y/*y', 'kind:vm', 'parent:pm-1', 'ip:192.168.1.9']) t.ok(m(sel), sel);
  for (const sel of ['lifecycle:online', 'rack:r8', 'business:pay', 'business:pay/g', 'business:shop/*', 'business:*/gate', 'kind:physical', 'parent:pm-2', 'ip:192.168.1.8']) t.notOk(m(sel), sel);
  t.ok(termMatches(parseSelector('lifecycle:online')[0]!, { name: 'x', groups: [] }), 'no lifecycle is online');
  t.notOk(termMatches(parseSelector('business:*')[0]!, { name: 'x', groups: [] }), 'no business line matches no glob');
  t.throws(() => parseSelector('business:pay/a/b'), /not a business line or glob/);
  t.throws(() => parseSelector('lifecycle:'), /lifecycle: needs a value/);
});

t.test('globMatches is exact at both ends and never backtracks', async (t) => {
  t.ok(globMatches('a*b*c', 'aXbYc'));
  t.ok(globMatches('a**c', 'ac'));
  t.notOk(globMatches('a*b', 'ab-'));
  t.notOk(globMatches('ab*ba', 'aba'), 'prefix and suffix may not overlap');
  t.ok(globMatches('*', ''));
  t.notOk(globMatches(`${'*a'.repeat(30)}b`, 'a'.repeat(120)), 'a pathological glob ends at once');
});
