/**
 * Probe steps (server/services/jobs/probe.ts) against real sockets on loopback: a listening
 * port, a refused one, a server that accepts and never answers (timeout), HTTP statuses,
 * a body larger than the read bound, HTTPS with a self-signed certificate, abort.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { hostPort, probeReadLimit, runProbe } from '../../../../server/services/jobs/probe.js';

const never = new AbortController().signal;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on: bound, read and closed. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  const p = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

t.test('tcp: a listening port is ok, a closed one is refused with address and port', async (t) => {
  const srv = net.createServer((c) => c.end());
  const port = await listen(srv);
  t.teardown(() => srv.close());
  const ok = await runProbe({ tcp: { port } }, '127.0.0.1', never);
  t.same(ok, { ok: true, message: `127.0.0.1:${port} accepts connections` });
  const closed = await freePort();
  t.same(await runProbe({ tcp: { port: closed } }, '127.0.0.1', never), { ok: false, message: `127.0.0.1:${closed} refused` });
});

t.test('http: the expected status is ok; another is named with the expected one', async (t) => {
  const srv = http.createServer((req, res) => {
    if (req.url === '/health') res.writeHead(200).end('ok');
    else if (req.url === '/busy') res.writeHead(503).end('busy');
    else if (req.url === '/moved') res.writeHead(301, { location: '/health' }).end();
    else res.writeHead(404).end();
  });
  const port = await listen(srv);
  t.teardown(() => srv.close());
  const ok = await runProbe({ http: { port, path: '/health' } }, '127.0.0.1', never);
  t.equal(ok.ok, true);
  t.match(ok.message, `HTTP 200 from http://127.0.0.1:${port}/health`);
  const busy = await runProbe({ http: { port, path: '/busy' } }, '127.0.0.1', never);
  t.same(busy, { ok: false, message: `HTTP 503, expected 200 (http://127.0.0.1:${port}/busy)` });
  // Redirects are not followed: the 301 is the answer.
  t.same((await runProbe({ http: { port, path: '/moved', status: 301 } }, '127.0.0.1', never)).ok, true);
  t.match((await runProbe({ http: { port, path: '/moved' } }, '127.0.0.1', never)).message, /^HTTP 301, expected 200/);
  // tcp then http, both reported.
  const both = await runProbe({ tcp: { port }, http: { port, path: '/health' } }, '127.0.0.1', never);
  t.equal(both.ok, true);
  t.match(both.message, /accepts connections; HTTP 200/);
  // The TCP part fails first.
  const closed = await freePort();
  t.same(await runProbe({ tcp: { port: closed }, http: { port } }, '127.0.0.1', never), { ok: false, message: `127.0.0.1:${closed} refused` });
  t.same(await runProbe({ http: { port: closed } }, '127.0.0.1', never), { ok: false, message: `http://127.0.0.1:${closed}/ refused` });
});

t.test('a server that accepts and never answers times out; so does a silent TCP peer under http', async (t) => {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((c) => void sockets.push(c));
  const port = await listen(srv);
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  const r = await runProbe({ http: { port }, timeoutSeconds: 1 }, '127.0.0.1', never);
  t.same(r, { ok: false, message: `http://127.0.0.1:${port}/: no answer within 1 s` });
});

t.test('an endless body is read only up to the bound, and the status decides', async (t) => {
  let written = 0;
  const srv = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(16 * 1024, 1);
    const pump = (): void => {
      while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
      if (written < 64 * 1024 * 1024) res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  const port = await listen(srv);
  t.teardown(() => srv.close());
  const r = await runProbe({ http: { port }, timeoutSeconds: 30 }, '127.0.0.1', never);
  t.equal(r.ok, true);
  t.ok(written < 64 * 1024 * 1024, `the server stopped early (${written} bytes written, bound ${probeReadLimit})`);
});

t.test('https with a self-signed certificate', async (t) => {
  const dir = t.testdir();
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  } catch {
    t.comment('skipped: openssl is not available to make a test certificate');
    return;
  }
  const srv = https.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.writeHead(204).end());
  const port = await listen(srv);
  t.teardown(() => srv.close());
  t.same((await runProbe({ http: { port, https: true, status: 204 } }, '127.0.0.1', never)).ok, true);
  t.same((await runProbe({ http: { port, https: true, status: 204 } }, 'localhost', never)).ok, true);
  t.match((await runProbe({ http: { port, https: true } }, '127.0.0.1', never)).message, /^HTTP 204, expected 200 \(https:/);
});

t.test('abort ends a probe at once, and an aborted signal never connects', async (t) => {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((c) => void sockets.push(c));
  const port = await listen(srv);
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  const ac = new AbortController();
  const p = runProbe({ http: { port }, timeoutSeconds: 300 }, '127.0.0.1', ac.signal);
  setTimeout(() => ac.abort(), 50);
  t.same(await p, { ok: false, message: `http://127.0.0.1:${port}/: probe cancelled` });
  t.same(await runProbe({ tcp: { port } }, '127.0.0.1', ac.signal), { ok: false, message: '127.0.0.1: probe cancelled' });
  // A TCP probe aborted while it connects (runProbe has started connecting when it returns).
  const ac2 = new AbortController();
  const p2 = runProbe({ tcp: { port }, timeoutSeconds: 300 }, '127.0.0.1', ac2.signal);
  ac2.abort();
  t.same(await p2, { ok: false, message: `127.0.0.1:${port}: probe cancelled` });
});

t.test('invalid specs and addresses answer ok: false without a connection', async (t) => {
  t.same(await runProbe({}, '127.0.0.1', never), { ok: false, message: 'the probe has neither tcp nor http' });
  t.match((await runProbe({ tcp: { port: 0 } }, '127.0.0.1', never)).message, /tcp port must be 1-65535/);
  t.match((await runProbe({ http: { port: 70000 } }, '127.0.0.1', never)).message, /http port must be 1-65535/);
  t.match((await runProbe({ http: { port: 80, path: 'x' } }, '127.0.0.1', never)).message, /must start with "\/"/);
  t.match((await runProbe({ http: { port: 80, path: '/a\r\nX: y' } }, '127.0.0.1', never)).message, /visible ASCII/);
  t.match((await runProbe({ http: { port: 80, status: 42 } }, '127.0.0.1', never)).message, /status must be 100-599/);
  t.match((await runProbe({ tcp: { port: 80 }, timeoutSeconds: 0 }, '127.0.0.1', never)).message, /timeoutSeconds/);
  t.match((await runProbe({ tcp: { port: 80 }, timeoutSeconds: 301 }, '127.0.0.1', never)).message, /timeoutSeconds/);
  for (const bad of ['', 'a b', 'x/../y', 'user@host', '-x', 'a'.repeat(300)]) t.match((await runProbe({ tcp: { port: 80 } }, bad, never)).message, /not a probe address/, JSON.stringify(bad));
  t.match((await runProbe({ tcp: { port: 80 } }, 'no-such-host.invalid', never)).message, /no-such-host\.invalid:80: name not found|no answer|unreachable/);
});

t.test('IPv6 addresses are bracketed', async (t) => {
  t.equal(hostPort('::1', 80), '[::1]:80');
  t.equal(hostPort('10.0.0.5', 8080), '10.0.0.5:8080');
  const srv = net.createServer((c) => c.end());
  try {
    await new Promise<void>((res, rej) => {
      srv.once('error', rej);
      srv.listen(0, '::1', res);
    });
  } catch {
    t.comment('skipped: no IPv6 loopback on this machine');
    return;
  }
  t.teardown(() => srv.close());
  const port = (srv.address() as net.AddressInfo).port;
  t.same(await runProbe({ tcp: { port } }, '[::1]', never), { ok: true, message: `[::1]:${port} accepts connections` });
});
