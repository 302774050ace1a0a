/** The inventory filter language (ADR 0018 §4): grammar, fields, globs, bounds, errors with columns. */
import t from 'tap';
import { ApiError } from '../../../../server/domain/errors.js';
import { parseFilter, type FilterHost } from '../../../../server/services/inventory/filter-expr.js';

function host(name: string, over: Partial<FilterHost> & { record?: FilterHost['record'] } = {}): FilterHost {
  return { hostname: name, record: { hostname: name }, lifecycle: 'online', source: 'store', groups: [], ...over };
}

const hosts: FilterHost[] = [
  host('web-1', { record: { hostname: 'web-1', idc: 'sz', tags: ['canary', 'web'], business: 'pay/gateway', ips: ['10.0.0.1', '10.0.1.1'], attributes: { owner: 'ana', cores: 8 } }, groups: ['web'], set: 's1', env: 'prod' }),
  host('web-2', { record: { hostname: 'web-2', idc: 'sz', tags: ['web'], business: 'pay/api', ips: ['10.0.0.2'] }, lifecycle: 'maintenance', groups: ['web'], source: 'both' }),
  host('db-1', { record: { hostname: 'db-1', idc: 'gz', kind: 'db-instance', parent: 'pm-1', business: 'crm' }, source: 'repository' }),
  host('pm-1', { record: { hostname: 'pm-1', idc: 'gz', kind: 'physical', rack: 'r 7' }, lifecycle: 'retired' }),
];
const facts: Record<string, unknown> = {
  'web-1': { os: { family: 'debian', release: 12 }, ips: ['10.9.9.9', '10.0.0.1'] },
  'db-1': { os: { family: 'rhel' } },
};
const ctx = { facts: (h: string) => facts[h], inGroup: (h: FilterHost, g: string) => g === 'dyn' && h.hostname.startsWith('db') };

function sel(expr: string): string[] {
  const f = parseFilter(expr);
  return hosts.filter((h) => f.matches(h, ctx)).map((h) => h.hostname);
}

function column(expr: string): number | undefined {
  try {
    parseFilter(expr);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'BAD_REQUEST') return (err.details as { column: number }).column;
    throw err;
  }
  return undefined;
}

t.test('the ADR examples', async (t) => {
  t.same(sel('idc=sz and tag:canary and lifecycle=online'), ['web-1']);
  t.same(sel('business=pay/*'), ['web-1', 'web-2']);
  t.same(sel('not lifecycle=retired'), ['web-1', 'web-2', 'db-1']);
  t.same(sel('fact.os.family=debian'), ['web-1']);
});

t.test('fields, multi-valued fields, globs and exists', async (t) => {
  t.same(sel('ip=10.0.1.1'), ['web-1'], 'any address of ips');
  t.same(sel('ip=10.0.0.*'), ['web-1', 'web-2']);
  t.same(sel('ip!=10.0.0.2'), ['web-1', 'db-1', 'pm-1'], '!= is not =, hosts without the field included');
  t.same(sel('product=pay'), ['web-1', 'web-2']);
  t.same(sel('module=gateway'), ['web-1']);
  t.same(sel('product=crm'), ['db-1'], 'a business without module is its product');
  t.same(sel('module exists'), ['web-1', 'web-2']);
  t.same(sel('kind=db-instance and parent=pm-1'), ['db-1']);
  t.same(sel('rack="r 7"'), ['pm-1'], 'quoted values may hold spaces');
  t.same(sel('hostname=web-*'), ['web-1', 'web-2']);
  t.same(sel('hostname=x'), []);
  t.same(sel('set=s1 or env=prod'), ['web-1']);
  t.same(sel('source=repository'), ['db-1']);
  t.same(sel('attr.owner=ana and attr.cores=8'), ['web-1'], 'attribute numbers compare as text');
  t.same(sel('attr.owner exists'), ['web-1']);
  t.same(sel('tag:we*'), ['web-1', 'web-2']);
  t.same(sel('tag:"canary"'), ['web-1']);
  t.same(sel('fact.ips=10.9.9.9'), ['web-1'], 'a fact list matches when any element does');
  t.same(sel('fact.os.release=12'), ['web-1']);
  t.same(sel('fact.os exists'), ['web-1', 'db-1']);
  t.same(sel('fact.os.family=*'), ['web-1', 'db-1']);
  t.same(sel('group:web'), ['web-1', 'web-2'], 'repository groups from the host');
  t.same(sel('group:dyn'), ['db-1'], 'inventory groups through the context');
  t.same(sel('lifecycle=online'), ['web-1', 'db-1']);
});

t.test('precedence and parentheses', async (t) => {
  t.same(sel('idc=gz or idc=sz and tag:canary'), ['web-1', 'db-1', 'pm-1'], 'and binds tighter than or');
  t.same(sel('(idc=gz or idc=sz) and not tag:canary'), ['web-2', 'db-1', 'pm-1']);
  t.same(sel('not not idc=gz'), ['db-1', 'pm-1']);
  t.same(sel('not (idc=gz or tag:canary)'), ['web-2']);
  const f = parseFilter('group:a or (fact.x=1 and group:b)');
  t.ok(f.usesFacts);
  t.same([...f.groups].sort(), ['a', 'b']);
  t.notOk(parseFilter('idc=sz').usesFacts);
});

t.test('errors name the column', async (t) => {
  t.equal(column('idc=sz and'), 11, 'a term is missing at the end');
  t.equal(column('idc=sz tag:x'), 8, 'two terms without and');
  t.equal(column('colour=red'), 1, 'unknown field');
  t.equal(column('idc sz'), 5, 'no operator');
  t.equal(column('(idc=sz'), 8, 'unclosed paren');
  t.equal(column('idc=sz)'), 7);
  t.equal(column('idc=sz & tag:x'), 8, 'unexpected character');
  t.equal(column('rack="r 7'), 6, 'unterminated string');
  t.equal(column('tag:'), 1);
  t.equal(column('attr.a.b=1'), 1, 'attribute names have no dots');
  t.equal(column('fact.__proto__.x=1'), 1, 'prototype keys are no fact path');
  t.equal(column('idc=a or and'), 10);
  t.equal(column(''), 1);
  t.equal(column('idc!sz'), 4);
  t.throws(() => parseFilter('idc=sz and'), /bad filter at column 11/);
});

t.test('bounds: characters, terms, depth', async (t) => {
  t.equal(column('x'.repeat(4097)), 4097);
  const terms = (n: number) => Array.from({ length: n }, (_, i) => `idc=d${i}`).join(' or ');
  t.equal(column(terms(200)), undefined, '200 terms are fine');
  t.ok(column(terms(201))! > 1, '201 are refused');
  const nested = (n: number) => `${'('.repeat(n)}idc=a${')'.repeat(n)}`;
  t.equal(column(nested(31)), undefined, 'depth 31 is fine');
  t.equal(column(nested(40)), 33, 'deeper than 32 is refused at the bracket that goes too deep');
  t.equal(column(`${'not '.repeat(40)}idc=a`), 129, 'a chain of not counts as depth');
  const wide = Array.from({ length: 100 }, () => 'business=*a*b*c*').join(' or ');
  const f = parseFilter(wide);
  t.notOk(f.matches(host('x', { record: { hostname: 'x', business: 'a'.repeat(129) } })), 'globs over long values run without a regular expression');
});
