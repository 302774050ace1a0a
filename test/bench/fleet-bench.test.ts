/**
 * bench:fleet's harness at a tiny scale (50 agents, a few seconds), so it does not rot: a real
 * server process, seeded identities, signed polls and engine-made reports, the publish burst
 * and the floor. Asserts what the run did (every request answered, 304s seen, reports
 * accepted, every agent downloads once after the publish, the db hosts' new catalogs),
 * never how fast.
 */
import t from 'tap';
import { steadMain } from '../helpers/cli.js';
import { fleetHost, fleetRepository, fleetRole } from '../helpers/fleet-repository.js';
import { runFleetBench, type Phase } from '../helpers/fleet-bench-run.js';

t.test('the fleet repository: roles dealt 12/3/3/2 per 20 hosts, 1,000 hosts per inventory file, generation 1 changes db only', async (t) => {
  const roles = Array.from({ length: 20 }, (_, i) => fleetRole(i));
  t.same([roles.filter((r) => r === 'web').length, roles.filter((r) => r === 'cache').length, roles.filter((r) => r === 'batch').length, roles.filter((r) => r === 'db').length], [12, 3, 3, 2]);
  t.equal(fleetHost(7), 'fleet-000007');
  const r0 = fleetRepository(2500, 0);
  t.same(Object.keys(r0).filter((p) => p.startsWith('inventory/')).sort(), ['inventory/hosts-0000.yaml', 'inventory/hosts-0001.yaml', 'inventory/hosts-0002.yaml']);
  const r1 = fleetRepository(2500, 1);
  const changed = Object.keys(r0).filter((p) => r0[p] !== r1[p]).sort();
  t.same(changed, ['groups/db.yaml', 'stead.yaml']);
  t.throws(() => fleetRepository(0), RangeError);
});

for (const signAhead of [true, false]) t.test(`a 50-agent run, signing ${signAhead ? 'ahead' : 'live'}, answers every request, sees 304s, accepts reports and measures the publish burst`, async (t) => {
  const lines: string[] = [];
  const out = await runFleetBench({
    signAhead,
    mainJs: steadMain,
    agents: 50,
    durationS: 4,
    intervalS: 2,
    store: 'sqlite',
    publish: true,
    driftShare: 0.2,
    sockets: 20,
    warmConcurrency: 8,
    floorS: 2,
    log: (l) => lines.push(l),
  });
  t.ok(lines.some((l) => l.includes('seeded 50 approved agents')), 'identities seeded');
  const warm = out['warmup'] as Phase & { withoutCatalog: number };
  t.equal(warm.withoutCatalog, 0, 'every agent got its catalog in the warm-up');
  t.equal(warm.routes['GET catalog 200']?.n, 50);
  const steady = out['steady'] as Phase & { storeGrowthBytes: number };
  t.same(steady.errors, {}, 'no request failed in the steady state');
  const polls304 = steady.routes['GET catalog 304']?.n ?? 0;
  t.ok(polls304 >= 50, `conditional polls answered 304 (${polls304})`);
  t.equal(steady.routes['GET catalog 200'], undefined, 'no catalog was resent in the steady state');
  const reports = (steady.routes['POST report']?.n ?? 0) + (steady.routes['POST report (drift)']?.n ?? 0);
  t.equal(reports, polls304, 'every run\'s report was accepted');
  t.ok(steady.storeGrowthBytes > 0, 'the store grew with the reports');
  const pub = out['publish'] as Phase & { agentsThatDownloaded: number; newCatalogs: number; sameCatalogResent: number; catalogDownloads: number; bytesSent: number };
  t.same(pub.errors, {}, 'no request failed around the publish');
  t.equal(pub.agentsThatDownloaded, 50, 'every agent downloaded its catalog once after the publish');
  const db = Array.from({ length: 50 }, (_, i) => fleetRole(i)).filter((r) => r === 'db').length;
  t.equal(pub.newCatalogs, db, `the ${db} db hosts got a new catalog`);
  t.equal(pub.sameCatalogResent, 50 - db, 'the others got the same catalog again, naming the new revision');
  t.equal(pub.catalogDownloads, 50, 'once each');
  t.ok(pub.bytesSent > 0);
  const floor = out['floor'] as Phase;
  t.same(floor.errors, {});
  t.ok((floor.routes['GET catalog 304']?.n ?? 0) >= 25, 'the floor answered the same schedule');
  t.ok(out['ratios'], 'ratios against the floor are printed');
  if (signAhead) {
    const signed = out['signedAhead'] as { requests: number };
    t.equal(signed.requests, 2 * 50 * 2, 'the steady state\'s two runs per agent were signed ahead: a poll and a report each');
    t.ok(lines.some((l) => l.startsWith('signed the steady state')), 'the signing is logged');
  } else t.equal(out['signedAhead'], undefined, 'nothing is signed ahead');
});

t.test('a window longer than the clock allows is refused before anything starts, naming the way out', async (t) => {
  await t.rejects(runFleetBench({ mainJs: steadMain, agents: 1, durationS: 250, intervalS: 60, store: 'sqlite', publish: false, driftShare: 0, sockets: 1, signAhead: true, warmConcurrency: 1, floorS: 1, log: () => {} }), /300 s clock window.*--sign live/);
});
