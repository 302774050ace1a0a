import { createPublicKey, sign, verify } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { IdentityError, loadOrCreateIdentity, readEnrollment, writeEnrollment } from '../../../agent/identity/agent-identity.js';

t.test('a key pair is generated once, private, and reused', async (t) => {
  const dataDir = t.testdir();
  const first = await loadOrCreateIdentity(dataDir);
  t.equal(first.created, true);
  t.equal(first.privateKey.asymmetricKeyType, 'ed25519');
  t.match(first.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  const keyPath = join(dataDir, 'identity', 'key.pem');
  t.equal((await fsp.stat(keyPath)).mode & 0o777, 0o600, 'private key is 0600');
  t.equal((await fsp.stat(join(dataDir, 'identity'))).mode & 0o777, 0o700, 'identity dir is 0700');
  const again = await loadOrCreateIdentity(dataDir);
  t.equal(again.created, false);
  t.equal(again.publicKeyPem, first.publicKeyPem, 'same identity after a restart');
  const msg = Buffer.from('hello');
  t.ok(verify(null, msg, createPublicKey(first.publicKeyPem), sign(null, msg, again.privateKey)));
  t.equal(await fsp.readFile(join(dataDir, 'identity', 'key.pub.pem'), 'utf8'), first.publicKeyPem);
});

t.test('a loosened key file is tightened; a damaged one is refused', async (t) => {
  const dataDir = t.testdir();
  await loadOrCreateIdentity(dataDir);
  const keyPath = join(dataDir, 'identity', 'key.pem');
  await fsp.chmod(keyPath, 0o644);
  await loadOrCreateIdentity(dataDir);
  t.equal((await fsp.stat(keyPath)).mode & 0o777, 0o600);
  await fsp.writeFile(keyPath, 'garbage');
  await t.rejects(loadOrCreateIdentity(dataDir), IdentityError);
});

t.test('the enrollment record is per server and host', async (t) => {
  const dir = (await loadOrCreateIdentity(t.testdir())).dir;
  t.equal(await readEnrollment(dir, 'http://a', 'web-1'), undefined);
  await writeEnrollment(dir, { server: 'http://a', host: 'web-1', status: 'approved', updatedAt: '2026-11-26T00:00:00.000Z' });
  t.equal((await readEnrollment(dir, 'http://a', 'web-1'))?.status, 'approved');
  t.equal(await readEnrollment(dir, 'http://b', 'web-1'), undefined, 'another server means a new enrollment');
  t.equal(await readEnrollment(dir, 'http://a', 'web-2'), undefined, 'another host name means a new enrollment');
  await fsp.writeFile(join(dir, 'enrollment.json'), '{');
  t.equal(await readEnrollment(dir, 'http://a', 'web-1'), undefined, 'unreadable record: enroll again');
});
