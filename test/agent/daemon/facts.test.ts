import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { collectFacts, factsFingerprint, parseOsRelease } from '../../../agent/facts/collect-facts.js';

t.test('os-release parsing', async (t) => {
  const rel = parseOsRelease('# comment\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\nPRETTY_NAME=\'Debian 12\'\nBROKEN LINE\nX="a \\"quoted\\" word"\n');
  t.same(rel, { NAME: 'Debian GNU/Linux', VERSION_ID: '12', ID: 'debian', PRETTY_NAME: 'Debian 12', X: 'a "quoted" word' });
});

t.test('facts of this machine, from real sources', async (t) => {
  const dir = t.testdir({
    'os-release': 'ID=ubuntu\nID_LIKE=debian\nNAME="Ubuntu"\nVERSION="24.04 LTS (Noble Numbat)"\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n',
  });
  // A mount table naming the test directory (an escaped space included) and pseudo filesystems that must be left out.
  const spaced = join(dir, 'with space');
  await fsp.mkdir(spaced);
  await fsp.writeFile(join(dir, 'mounts'), `proc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n/dev/sda1 ${dir} ext4 rw 0 0\n/dev/sdb1 ${spaced.replace(/ /g, '\\040')} xfs rw 0 0\n/dev/sda1 ${dir} ext4 rw 0 0\n`);
  const f = await collectFacts({ osReleasePaths: [join(dir, 'missing'), join(dir, 'os-release')], mountsPath: join(dir, 'mounts') });
  t.equal(f.hostname, os.hostname());
  t.same(f.os, { id: 'ubuntu', family: 'debian', name: 'Ubuntu', version: '24.04 LTS (Noble Numbat)', versionId: '24.04', prettyName: 'Ubuntu 24.04 LTS' });
  t.same(f.kernel, { name: os.type(), release: os.release(), arch: os.arch() });
  t.equal(f.cpu.count, os.cpus().length);
  t.equal(f.memory.totalBytes, os.totalmem());
  t.same(f.disks.map((d) => [d.mount, d.fstype, d.device]), [[dir, 'ext4', '/dev/sda1'], [spaced, 'xfs', '/dev/sdb1']].sort((a, b) => a[0]!.localeCompare(b[0]!)), 'real filesystems only, each once, escapes decoded');
  for (const d of f.disks) t.ok(d.totalBytes > 0 && d.freeBytes >= 0 && d.freeBytes <= d.totalBytes, `${d.mount} sizes`);
  t.ok(f.uptimeSeconds > 0);
  for (const ip of f.ips) t.not(ip.address, '127.0.0.1', 'loopback left out');
  t.same(f.ipv4, f.ips.filter((i) => i.family === 'IPv4').map((i) => i.address));
  for (const key of Object.keys(f)) t.notOk(key.includes('.') || key.startsWith('$'), `fact key ${key} is storable`);
});

t.test('the fingerprint ignores uptime and free space but sees real changes', async (t) => {
  const f = await collectFacts({ mountsPath: '/nonexistent' });
  const base = factsFingerprint(f);
  t.equal(factsFingerprint({ ...f, uptimeSeconds: f.uptimeSeconds + 3600 }), base, 'uptime');
  t.equal(factsFingerprint({ ...f, memory: { ...f.memory, freeBytes: 1 } }), base, 'free memory');
  const withDisk = { ...f, disks: [{ mount: '/', device: '/dev/sda1', fstype: 'ext4', totalBytes: 100, freeBytes: 50 }] };
  t.equal(factsFingerprint({ ...withDisk, disks: [{ ...withDisk.disks[0]!, freeBytes: 10 }] }), factsFingerprint(withDisk), 'free disk');
  t.not(factsFingerprint(withDisk), base, 'a new disk');
  t.not(factsFingerprint({ ...f, os: { ...f.os, versionId: '99' } }), base, 'an OS upgrade');
  t.not(factsFingerprint({ ...f, ipv4: [...f.ipv4, '10.9.9.9'] }), base, 'a new address');
  t.not(factsFingerprint({ ...f, memory: { ...f.memory, totalBytes: f.memory.totalBytes * 2 } }), base, 'more memory');
});

t.test('facts are sent again, unchanged, to a new destination (another server, or a re-enrollment with a new key)', async (t) => {
  const { default: http } = await import('node:http');
  const { AgentClient } = await import('../../../agent/client/agent-client.js');
  const { FactsReporter } = await import('../../../agent/daemon/facts-reporter.js');
  const { createJsonLogger } = await import('../../../agent/daemon/json-logger.js');
  const { loadOrCreateIdentity } = await import('../../../agent/identity/agent-identity.js');
  const puts: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT' && req.url === '/api/v1/hosts/web-1/facts') puts.push(Buffer.concat(chunks).toString());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ host: 'web-1', changed: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  const dataDir = t.testdir();
  const identity = await loadOrCreateIdentity(dataDir);
  const client = new AgentClient({ serverUrl: url, host: 'web-1', privateKey: identity.privateKey, timeoutMs: 5000 });
  t.teardown(() => client.close());
  const facts = await collectFacts({ mountsPath: '/nonexistent' });
  const log = createJsonLogger({ stream: { write: () => true }, level: 'error' });
  const reporter = (destination: string) => new FactsReporter({ client, dataDir, log, collect: async () => facts, destination });
  const signal = new AbortController().signal;

  t.same(await reporter(`${url} web-1 key-a`).sendIfChanged(signal), { sent: true }, 'first contact');
  t.same(await reporter(`${url} web-1 key-a`).sendIfChanged(signal), { sent: false }, 'same facts, same destination, after a restart: not resent');
  t.same(await reporter(`${url} web-1 key-b`).sendIfChanged(signal), { sent: true }, 're-enrolled with a new key: the server may have lost them, resent');
  t.same(await reporter('https://other.example:8140 web-1 key-b').sendIfChanged(signal), { sent: true }, 'another server: resent');
  t.equal(puts.length, 3);
  t.equal(new Set(puts).size, 1, 'the same facts each time');
});
