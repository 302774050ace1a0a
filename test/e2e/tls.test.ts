/**
 * TLS end to end: the server serves HTTPS with a certificate from a private CA; an agent given
 * that CA with --ca enrolls and converges; an agent without it refuses the server.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const run = promisify(execFile);
const openssl = await run('openssl', ['version']).then(() => true, () => false);
const skip = !(await hasCommand('server')) ? 'the build has no `stead server` command yet' : !openssl ? 'openssl is not installed, so no test certificates can be made' : false;

/** A private CA and a server certificate for 127.0.0.1 signed by it. */
async function certificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=stead-e2e-ca']);
  await run('openssl', ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  await fsp.writeFile(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf')]);
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key') };
}

t.test('an agent trusting the CA converges over HTTPS; one without it refuses the server', { skip }, async (t) => {
  const dir = t.testdir({ certs: {}, server: {}, a1: { root: {}, data: {} }, b1: { root: {}, data: {} } });
  const certs = await certificates(join(dir, 'certs'));
  const server = new ServerProcess(join(dir, 'server'), await freePort(), { cert: certs.cert, key: certs.key, ca: await fsp.readFile(certs.ca) });
  await server.start(t);
  t.match(server.url, /^https:/);
  t.equal((await server.publish(fleetRepository())).status, 201);
  const token = await server.api('POST', '/api/v1/bootstrap-tokens', { host: 'a1', ttlSeconds: 600 });

  const trusting = new AgentProcess({ host: 'a1', server: server.url, root: join(dir, 'a1/root'), dataDir: join(dir, 'a1/data'), bootstrapToken: token.body.token, extraArgs: ['--ca', certs.ca] }).start(t);
  const r = await trusting.waitForRun('a converging run over HTTPS', (x) => x.outcome === 'changed');
  t.equal(r.counts?.failed, 0);
  t.equal(await trusting.read('srv/app/greeting.conf'), 'greeting=hello-alpha\n');

  const untrusting = new AgentProcess({ host: 'b1', server: server.url, root: join(dir, 'b1/root'), dataDir: join(dir, 'b1/data') }).start(t);
  const line = await waitFor('the untrusting agent to fail the TLS handshake', () => untrusting.logs.find((l) => l.includes('enrollment: server not reachable')));
  t.match(line, /CERT|certificate|SELF_SIGNED|UNABLE_TO/i, 'the log names the certificate problem');
  t.equal((await server.api('GET', '/api/v1/agents/b1')).status, 404, 'it never enrolled');
  t.equal(await untrusting.stop(), 0);
  t.equal(await trusting.stop(), 0);
  await server.stop();
});
