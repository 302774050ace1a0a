/** Where operator commands connect and with what token: flags over environment, token file checks. */
import t from 'tap';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { resolveConnection, serverUrl } from '../../../cli/operator/connection.js';
import { UsageError, type CliIo } from '../../../cli/io.js';

function io(cwd: string, env: NodeJS.ProcessEnv = {}): CliIo {
  return { stdout: new PassThrough(), stderr: new PassThrough(), cwd, env };
}

t.test('the server: --server over STEAD_SERVER; an error naming both when missing', async (t) => {
  t.equal(serverUrl('https://a.example:8140', { STEAD_SERVER: 'https://b.example' }).host, 'a.example:8140');
  t.equal(serverUrl(undefined, { STEAD_SERVER: 'https://b.example' }).host, 'b.example');
  t.throws(() => serverUrl(undefined, {}), new UsageError('no server: give --server URL or set STEAD_SERVER'));
  t.throws(() => serverUrl(undefined, { STEAD_SERVER: '  ' }), /give --server URL or set STEAD_SERVER/, 'blank is missing');
  t.throws(() => serverUrl('not a url', {}), /--server must be a URL/);
  t.throws(() => serverUrl(undefined, { STEAD_SERVER: 'ftp://x' }), /STEAD_SERVER must be an http/);
  t.throws(() => serverUrl('https://u:p@x', {}), /must not carry a user or password/);
  t.throws(() => serverUrl('https://x/?a=1', {}), /query or fragment/);
});

t.test('the token: --token-file > STEAD_TOKEN_FILE > STEAD_TOKEN, whitespace stripped', async (t) => {
  const dir = t.testdir({ a: 'from-flag\n', b: '  from-env-file \n\n' });
  chmodSync(join(dir, 'a'), 0o600);
  chmodSync(join(dir, 'b'), 0o600);
  const env = { STEAD_SERVER: 'http://127.0.0.1:9', STEAD_TOKEN_FILE: 'b', STEAD_TOKEN: 'from-env' };
  const a = await resolveConnection({ 'token-file': 'a' }, io(dir, env));
  t.equal(a.token, 'from-flag');
  t.equal(a.tokenSource, '--token-file a');
  const b = await resolveConnection({}, io(dir, env));
  t.equal(b.token, 'from-env-file');
  t.match(b.tokenSource, /^STEAD_TOKEN_FILE/);
  const c = await resolveConnection({}, io(dir, { ...env, STEAD_TOKEN_FILE: '' }));
  t.equal(c.token, 'from-env');
  t.equal(c.tokenSource, 'STEAD_TOKEN');
  t.equal(c.timeoutMs, 30_000, 'default request timeout');
  t.same(c.warnings, [], 'loopback http and a 0600 file: nothing to say');
  await t.rejects(resolveConnection({}, io(dir, { STEAD_SERVER: 'http://127.0.0.1:9' })), new UsageError('no operator token: give --token-file FILE, set STEAD_TOKEN_FILE or STEAD_TOKEN, or log in with `stead login --user NAME`'));
  await t.rejects(resolveConnection({}, io(dir, { STEAD_SERVER: 'http://127.0.0.1:9', STEAD_TOKEN: 'a b' })), /is not a token/);
  await t.rejects(resolveConnection({}, io(dir, { STEAD_SERVER: 'http://127.0.0.1:9', STEAD_TOKEN: 'x\r\nX-Injected: 1' })), /is not a token/, 'no header injection');
});

t.test('a token file others can read or write is refused; a group-readable one warns', async (t) => {
  const dir = t.testdir({ world: 'tok\n', group: 'tok\n', gw: 'tok\n', empty: '\n', big: 'x'.repeat(5000), sub: {} });
  const env = { STEAD_SERVER: 'http://127.0.0.1:9' };
  chmodSync(join(dir, 'world'), 0o644);
  chmodSync(join(dir, 'group'), 0o640);
  chmodSync(join(dir, 'gw'), 0o620);
  chmodSync(join(dir, 'empty'), 0o600);
  chmodSync(join(dir, 'big'), 0o600);
  await t.rejects(resolveConnection({ 'token-file': 'world' }, io(dir, env)), /readable by other users \(mode 0644\); fix: chmod 600/);
  await t.rejects(resolveConnection({ 'token-file': 'gw' }, io(dir, env)), /writable by other users/);
  const g = await resolveConnection({ 'token-file': 'group' }, io(dir, env));
  t.equal(g.token, 'tok');
  t.match(g.warnings.join('\n'), /readable by its group/);
  await t.rejects(resolveConnection({ 'token-file': 'empty' }, io(dir, env)), /is empty/);
  await t.rejects(resolveConnection({ 'token-file': 'big' }, io(dir, env)), /larger than 4096 bytes/);
  await t.rejects(resolveConnection({ 'token-file': 'sub' }, io(dir, env)), /not a regular file/);
  await t.rejects(resolveConnection({ 'token-file': 'missing' }, io(dir, env)), /cannot read the token file \(--token-file missing\): ENOENT/);
});

t.test('CA file, request timeout, and a token sent in clear', async (t) => {
  const dir = t.testdir({ 'ca.pem': '-----BEGIN CERTIFICATE-----\n' });
  const env = { STEAD_SERVER: 'http://stead.example:8140', STEAD_TOKEN: 'tok' };
  const c = await resolveConnection({ ca: 'ca.pem', 'request-timeout': '5' }, io(dir, env));
  t.equal(c.ca?.toString(), '-----BEGIN CERTIFICATE-----\n');
  t.equal(c.timeoutMs, 5000);
  t.match(c.warnings.join('\n'), /clear text to http:\/\/stead.example:8140/);
  t.equal((await resolveConnection({ 'ca-file': 'ca.pem' }, io(dir, env))).ca?.length, 28, '--ca-file is the same option');
  t.equal((await resolveConnection({}, io(dir, { ...env, STEAD_CA_FILE: 'ca.pem' }))).ca?.length, 28, 'STEAD_CA_FILE');
  await t.rejects(resolveConnection({ ca: 'ca.pem', 'ca-file': 'other.pem' }, io(dir, env)), /--ca or --ca-file, not both/);
  await t.rejects(resolveConnection({ ca: 'nope.pem' }, io(dir, env)), /cannot read the CA file nope.pem: ENOENT/);
  for (const bad of ['0', 'x', '4000']) await t.rejects(resolveConnection({ 'request-timeout': bad }, io(dir, env)), /--request-timeout must be/);
});
