/**
 * The console's blob storage page (/blobs, ADR 0022) over HTTP against the composed in-process
 * server: a published revision (repo blobs, referenced), a served catalog (content blobs, kept
 * by marks) and orphans put straight into the store. The numbers on the page are checked against
 * the store itself (keys and sizes), not against the service that computes them; a viewer may read
 * the page, a request without a session goes to /login, the footer links it, and a server with
 * the retention off says "never pruned". formatBytes and the page model are checked alone.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { blobPageModel, formatBytes, retentionText } from '../../../server/web/blob-page.js';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const DAY = 86_400_000;
const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function login(fx: ServerFixture, token: string): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

async function get(fx: ServerFixture, path: string, cookie?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: cookie ? { cookie } : {} });
  return { status: r.status, body: r.body.toString(), headers: r.headers };
}

/** Keys and total size of a bucket, read from the store. */
async function bucketOf(fx: ServerFixture, name: string): Promise<{ keys: string[]; bytes: number }> {
  const store = await fx.server.store.blobs(name);
  const keys = await store.keys();
  let bytes = 0;
  for (const k of keys) bytes += (await store.stat(k))!.size;
  return { keys, bytes };
}

/** The cells of one bucket's row, by data-n. */
function row(body: string, bucket: string): Record<string, string> {
  const m = new RegExp(`<tr data-bucket="${bucket}">([\\s\\S]*?)</tr>`).exec(body);
  if (!m) throw new Error(`no row for ${bucket}`);
  const cells: Record<string, string> = {};
  for (const c of m[1]!.matchAll(/data-n="(\w+)"(?: title="(\d+) bytes")?>(?:<span>)?([^<]*)</g)) {
    cells[c[1]!] = c[3]!;
    if (c[2] !== undefined) cells['exactBytes'] = c[2];
  }
  cells['html'] = m[1]!;
  return cells;
}

t.test('formatBytes and retentionText', async (t) => {
  t.equal(formatBytes(0), '0 B');
  t.equal(formatBytes(1023), '1023 B');
  t.equal(formatBytes(1024), '1.0 KiB');
  t.equal(formatBytes(1536), '1.5 KiB');
  t.equal(formatBytes(10 * 1024), '10 KiB');
  t.equal(formatBytes(1024 * 1024 - 1), '1.0 MiB', 'rounds up into the next unit, never "1024 KiB"');
  t.equal(formatBytes(5.25 * 1024 ** 3), '5.3 GiB');
  t.equal(formatBytes(3 * 1024 ** 6), '3072 PiB', 'the largest unit keeps growing');
  t.throws(() => formatBytes(-1), RangeError);
  t.throws(() => formatBytes(Number.NaN), RangeError);
  t.equal(retentionText(null), 'never pruned');
  t.equal(retentionText(1), '1 day');
  t.equal(retentionText(7), '7 days');
});

t.test('blobPageModel: unreferenced counts and bar widths', async (t) => {
  const m = blobPageModel({
    retentionDays: 7,
    buckets: [
      { bucket: 'repo', blobs: 4, bytes: 3000, referenced: 3, referencedBytes: 1000 },
      { bucket: 'job_blobs', blobs: 0, bytes: 0, referenced: 0, referencedBytes: 0 },
    ],
  });
  const [repo, jobs] = m.rows;
  t.same([repo!.unreferenced, repo!.referencedPct, repo!.unreferencedPct, repo!.unreferencedBytesText], [1, 33.3, 66.7, '2.0 KiB']);
  t.same([jobs!.referencedPct, jobs!.unreferencedPct], [0, 0], 'an empty bucket draws no bar');
  t.same(m.total, { blobs: 4, bytesText: '2.9 KiB', unreferenced: 1, unreferencedBytesText: '2.0 KiB' });
  t.equal(m.neverPruned, false);
});

t.test('/blobs shows the buckets from the store; viewers may read it', async (t) => {
  const fx = await startServer(t, { blobRetentionMs: 3 * DAY });
  t.equal((await fx.publish(smallRepo())).status, 201);
  const web = await fx.approvedAgent('web-1');
  t.equal((await web.request('GET', '/api/v1/hosts/web-1/catalog')).status, 200);
  // Orphans: bytes no document names.
  const orphan = Buffer.alloc(5000, 'o');
  await (await fx.server.store.blobs('repo')).put(hex(orphan), orphan);
  const jobOrphan = Buffer.alloc(2048, 'j');
  await (await fx.server.store.blobs('job_blobs')).put(hex(jobOrphan), jobOrphan);

  const repo = await bucketOf(fx, 'repo');
  const content = await bucketOf(fx, 'content');
  t.ok(repo.keys.length >= 2 && content.keys.length >= 1, `stored: ${repo.keys.length} repo, ${content.keys.length} content`);

  // No session: to the login page, and the figures are not sent.
  const anon = await get(fx, '/blobs');
  t.equal(anon.status, 302);
  t.equal(anon.headers['location'], '/login');
  t.notMatch(anon.body, /data-bucket/);

  const viewer = await login(fx, await fx.token('viewer', 'vera'));
  const p = await get(fx, '/blobs', viewer);
  t.equal(p.status, 200, 'a viewer reads the page');
  t.match(String(p.headers['content-security-policy']), /script-src 'self'/);
  t.match(p.body, /<h1>Blob storage<\/h1>/);
  t.match(p.body, /vera \(viewer\)/);

  const r = row(p.body, 'repo');
  t.equal(r['blobs'], String(repo.keys.length), 'repo: blobs');
  t.equal(r['exactBytes'], String(repo.bytes), 'repo: exact bytes in the title');
  t.equal(r['bytes'], formatBytes(repo.bytes), 'repo: bytes, human-readable');
  t.equal(r['referenced'], String(repo.keys.length - 1), 'repo: every revision file is referenced');
  t.equal(r['unreferenced'], '1', 'repo: the orphan');
  t.match(r['html'], `${formatBytes(repo.bytes - orphan.length)} · ${formatBytes(orphan.length)}`, 'repo: referenced · unreferenced bytes');
  const pct = Math.round(((repo.bytes - orphan.length) / repo.bytes) * 1000) / 10;
  t.match(r['html'], `<i class="ref" style="width:${pct}%">`, 'repo: the bar splits the bytes');
  t.match(r['html'], /<td data-label="Retention">3 days<\/td>/);

  const c = row(p.body, 'content');
  t.same([c['blobs'], c['referenced'], c['unreferenced'], c['exactBytes']], [String(content.keys.length), '0', String(content.keys.length), String(content.bytes)], 'content: no document references');
  t.match(c['html'], /kept while served/);

  const j = row(p.body, 'job_blobs');
  t.same([j['blobs'], j['referenced'], j['unreferenced'], j['bytes']], ['1', '0', '1', '2.0 KiB'], 'job_blobs: the orphan');
  t.match(j['html'], '0 B · 2.0 KiB');

  t.match(p.body, `<dd id="total">${repo.keys.length + content.keys.length + 1} blob(s), ${formatBytes(repo.bytes + content.bytes + jobOrphan.length)}; ${content.keys.length + 2} unreferenced`);
  t.match(p.body, /<b>3 days<\/b>: an unreferenced blob is deleted/);

  // The API answers the same figures, with the referenced bytes.
  const api = (await fx.json('GET', '/api/v1/blobs')).json() as { buckets: { bucket: string; bytes: number; referencedBytes: number }[] };
  t.same(api.buckets.find((b) => b.bucket === 'repo'), { bucket: 'repo', blobs: repo.keys.length, bytes: repo.bytes, referenced: repo.keys.length - 1, referencedBytes: repo.bytes - orphan.length });

  // Linked from every page's footer (the header nav already wraps).
  const home = await get(fx, '/', viewer);
  t.match(home.body, /<footer>[\s\S]*<a href="\/blobs">Blob storage<\/a><\/footer>/);
  t.match(p.body, /<a href="\/blobs" aria-current="page">Blob storage<\/a>/);
  t.notMatch(p.body, /data-refresh=/, 'the page does not reload itself (each request scans the buckets)');
});

t.test('retention off: never pruned', async (t) => {
  const fx = await startServer(t, { blobRetentionMs: 0 });
  const cookie = await login(fx, fx.adminToken);
  const p = await get(fx, '/blobs', cookie);
  t.equal(p.status, 200);
  t.match(p.body, /<b>never pruned<\/b>/);
  t.match(p.body, /with the retention off it is kept/);
  const r = row(p.body, 'repo');
  t.same([r['blobs'], r['bytes']], ['0', '0 B'], 'nothing published: an empty bucket');
  t.match(r['html'], /<span class="muted">empty<\/span>/);
  t.match(r['html'], /<td data-label="Retention">never pruned<\/td>/);
});
