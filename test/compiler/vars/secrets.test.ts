/** Secrets: AES-256-GCM at rest, key files, redaction markers, revealing only with the key. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { decryptSecret, encryptSecret, generateKeyText, parseKeyText, readKeyFile, SecretError, writeNewKeyFile } from '../../../compiler/vars/secret-box.js';
import { SecretValue, isSecretValue } from '../../../compiler/vars/secret-value.js';
import { containsSecret, probeSecrets, redactSecrets, revealSecrets, type RevealedSecret } from '../../../compiler/vars/secrets.js';
import { parseYamlFile } from '../../../compiler/repo/yaml-file.js';

const key = parseKeyText(generateKeyText());

t.test('encrypt/decrypt round trip; random IV; wrong key and tampering fail authentication', async (t) => {
  const c1 = encryptSecret('hunter2-ä', key);
  const c2 = encryptSecret('hunter2-ä', key);
  t.match(c1, /^v1:[A-Za-z0-9_-]+$/);
  t.not(c1, c2, 'a fresh IV each time');
  t.notMatch(c1, /hunter2/);
  t.equal(decryptSecret(c1, key), 'hunter2-ä');
  const other = parseKeyText(generateKeyText());
  t.throws(() => decryptSecret(c1, other), { code: 'SECRET_DECRYPT_FAILED' });
  const raw = Buffer.from(c1.slice(3), 'base64url');
  raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
  t.throws(() => decryptSecret('v1:' + raw.toString('base64url'), key), { code: 'SECRET_DECRYPT_FAILED' });
  t.throws(() => decryptSecret('plaintext', key), { code: 'SECRET_MALFORMED' });
  t.throws(() => decryptSecret('v1:AAAA', key), { code: 'SECRET_MALFORMED' });
  t.throws(() => encryptSecret('x', Buffer.alloc(16)), { code: 'SECRET_KEY_INVALID' });
});

t.test('key files: 64 hex digits, created 0600, never overwritten', async (t) => {
  const dir = t.testdir({ 'bad.key': 'not hex\n' });
  const p = join(dir, 'new.key');
  await writeNewKeyFile(p);
  t.equal(statSync(p).mode & 0o777, 0o600);
  t.match(readFileSync(p, 'utf8'), /^[0-9a-f]{64}\n$/);
  t.equal((await readKeyFile(p)).length, 32);
  await t.rejects(writeNewKeyFile(p), { code: 'EEXIST' });
  await t.rejects(readKeyFile(join(dir, 'bad.key')), { code: 'SECRET_KEY_INVALID' });
  await t.rejects(readKeyFile(join(dir, 'missing.key')), { code: 'SECRET_KEY_MISSING' });
});

t.test('!secret in YAML becomes a SecretValue that prints only a redaction marker', async (t) => {
  const ct = encryptSecret('s3cr3t-canary', key);
  const yf = parseYamlFile('groups/db.yaml', `vars:\n  db:\n    password: !secret ${ct}\n`);
  t.same(yf.problems, []);
  const s = ((yf.value as { vars: { db: { password: unknown } } }).vars.db.password);
  t.ok(isSecretValue(s));
  const sv = s as SecretValue;
  t.equal(sv.origin, 'groups/db.yaml:3');
  t.match(String(sv), /^\[secret sha256:[0-9a-f]{12}\]$/);
  t.equal(JSON.stringify({ p: sv }), `{"p":"${sv.redacted()}"}`);
  t.notMatch(JSON.stringify(redactSecrets(yf.value)), /s3cr3t-canary/);
  t.ok(containsSecret(yf.value));
  const used: RevealedSecret[] = [];
  const revealed = revealSecrets(yf.value, key, used) as { vars: { db: { password: string } } };
  t.equal(revealed.vars.db.password, 's3cr3t-canary');
  t.equal(used.length, 1);
  const err = (() => {
    try {
      revealSecrets(yf.value, undefined);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(err instanceof SecretError);
  t.match(err, { code: 'SECRET_KEY_MISSING', message: /groups\/db\.yaml:3/ });
  const probed = probeSecrets(yf.value) as { vars: { db: { password: string } } };
  t.match(probed.vars.db.password, /^stead-secret-probe-1-/);
  const bad = parseYamlFile('x.yaml', 'a: !secret\nb: !!js/function "x"\n');
  t.same(bad.problems.map((p) => [p.code, p.line]).sort(), [['SECRET_MALFORMED', 1], ['YAML_UNKNOWN_TAG', 2]]);
});
