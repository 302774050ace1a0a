/**
 * A8 fuzz: more than 10,000 random and mutated bodies thrown at every body-accepting route
 * (signed where the route needs it, so validation — not auth — is what gets exercised).
 * Expect: 4xx (or 2xx for a mutation that stays valid), never a 5xx; prototype unpolluted;
 * the server still healthy. Deterministic: a seeded generator.
 */
import http from 'node:http';
import t from 'tap';
import { startServer, type TestAgent } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const evilKeys = ['__proto__', 'constructor', 'prototype', '$where', '$ne', 'a.b', 'polluted', '', '\u0000', '../x'];

t.test('fuzz every body-accepting route', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const agent = await fx.approvedAgent('web-1');
  const rnd = prng(20261126);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const randomString = (): string => pick(['', 'x', 'web-1', '../../etc/passwd', '<script>alert(1)</script>', '{{ 7*7 }}', '\u001b[2J', 'a'.repeat(300), '%00', '\ud800', 'sha256:' + 'f'.repeat(64), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n']);
  const randomValue = (depth = 0): unknown => {
    const k = Math.floor(rnd() * (depth > 3 ? 6 : 9));
    switch (k) {
      case 0: return null;
      case 1: return rnd() < 0.5;
      case 2: return pick([0, -1, 1e308, 3.5, 2 ** 53 + 1, -0]);
      case 3: case 4: case 5: return randomString();
      case 6: return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = Math.floor(rnd() * 4); i > 0; i--) o[pick(['host', 'runId', 'files', 'role', 'name', 'x', ...evilKeys])] = randomValue(depth + 1);
        return o;
      }
    }
  };
  const publicKey = fx.agent('x').publicKeyPem;
  const fp = (await fx.json('GET', '/api/v1/agents/web-1')).json().keys[0].fingerprint;
  type Target = { method: string; path: string; base: Record<string, unknown>; signer?: TestAgent; operator?: boolean };
  const targets: Target[] = [
    { method: 'POST', path: '/api/v1/agents/enroll', base: { host: 'fuzz-1', publicKey } },
    { method: 'POST', path: '/api/v1/hosts/web-1/reports', base: makeReport('web-1', 'fuzz'), signer: agent },
    { method: 'PUT', path: '/api/v1/hosts/web-1/facts', base: { os: 'debian', ips: ['10.0.0.1'], memory: { totalBytes: 1 } }, signer: agent },
    { method: 'POST', path: '/api/v1/bootstrap-tokens', base: { ttlSeconds: 600 }, operator: true },
    { method: 'POST', path: '/api/v1/operator-tokens', base: { name: 'fuzzer', role: 'readonly' }, operator: true },
    { method: 'POST', path: '/api/v1/agents/web-1/approve', base: { fingerprint: fp }, operator: true },
    { method: 'POST', path: '/api/v1/agents/web-1/reject', base: { fingerprint: fp }, operator: true },
    { method: 'POST', path: '/api/v1/revisions', base: { files: { 'stead.yaml': 'stead: 1\n' } }, operator: true },
  ];

  const mutate = (base: Record<string, unknown>): { body: Buffer; type: string } => {
    const m = Math.floor(rnd() * 12);
    const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v) ?? 'null');
    const keys = Object.keys(base);
    switch (m) {
      case 0: return { body: json(randomValue()), type: 'application/json' };
      case 1: { const c = { ...base }; delete c[pick(keys)]; return { body: json(c), type: 'application/json' }; }
      case 2: case 3: { const c = { ...base }; c[pick(keys)] = randomValue(); return { body: json(c), type: 'application/json' }; }
      case 4: {
        const key = pick(evilKeys);
        const text = JSON.stringify(base).replace(/^\{/, `{${JSON.stringify(key)}:{"polluted":true,"isAdmin":true},`);
        return { body: Buffer.from(text), type: 'application/json' };
      }
      case 5: { const s = JSON.stringify(base); return { body: Buffer.from(s.slice(0, Math.floor(rnd() * s.length))), type: 'application/json' }; }
      case 6: return { body: Buffer.concat([Buffer.from('{"host":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]), type: 'application/json' };
      case 7: return { body: Buffer.from('host: web-1\nfn: !!js/function "function(){return 1}"\n'), type: pick(['application/yaml', 'text/yaml', 'application/x-yaml']) };
      case 8: { const d = 200 + Math.floor(rnd() * 5000); return { body: Buffer.from('['.repeat(d) + ']'.repeat(d)), type: 'application/json' }; }
      case 9: return { body: json(base), type: pick(['text/plain', 'application/x-www-form-urlencoded', '', 'application/json-patch+json', 'multipart/form-data; boundary=x']) };
      case 10: { const c = { ...base }; c[pick(keys)] = 'x'.repeat(1 + Math.floor(rnd() * 200_000)); return { body: json(c), type: 'application/json' }; }
      default: { const c: Record<string, unknown> = { ...base }; for (const k of keys) if (rnd() < 0.5) c[k] = randomValue(); return { body: json(c), type: 'application/json' }; }
    }
  };

  const agentPool = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.teardown(() => agentPool.destroy());
  const url = new URL(fx.base);
  const send = (tg: Target, body: Buffer, type: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-length': String(body.length) };
      if (type) headers['content-type'] = type;
      if (tg.operator) headers['authorization'] = `Bearer ${fx.adminToken}`;
      if (tg.signer) Object.assign(headers, tg.signer.sign(tg.method, tg.path, body));
      const r = http.request({ host: url.hostname, port: url.port, method: tg.method, path: tg.path, headers, agent: agentPool }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', reject);
      r.end(body);
    });

  const perTarget = 1300;
  const statuses = new Map<number, number>();
  const fiveHundreds: string[] = [];
  const jobs: { tg: Target; body: Buffer; type: string }[] = [];
  for (const tg of targets) for (let i = 0; i < perTarget; i++) jobs.push({ tg, ...mutate(tg.base) });
  for (let i = 0; i < jobs.length; i += 16) {
    const batch = jobs.slice(i, i + 16);
    const codes = await Promise.all(batch.map((j) => send(j.tg, j.body, j.type)));
    codes.forEach((c, k) => {
      statuses.set(c, (statuses.get(c) ?? 0) + 1);
      if (c >= 500 && fiveHundreds.length < 10) fiveHundreds.push(`${c} ${batch[k]!.tg.path} ${batch[k]!.body.toString('utf8').slice(0, 200)}`);
    });
  }
  t.ok(jobs.length >= 10_000, `${jobs.length} bodies sent`);
  t.same(fiveHundreds, [], 'no 5xx');
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...statuses.entries()].sort()))}`);
  t.ok([...statuses.keys()].every((s) => s >= 200 && s < 500), 'only 2xx/4xx');
  t.ok((statuses.get(415) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, 'both 415 and 400 seen');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, '({}).polluted stays undefined');
  t.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
  t.equal((await fx.json('GET', '/healthz')).status, 200, 'still healthy');
  // Some mutations stay valid (an empty repository is one); a live revision always exists.
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).status, 200);
});

t.test('limits: oversized bodies are 413, a 100 MB declared length is refused unread', async (t) => {
  const fx = await startServer(t);
  const agent = await fx.approvedAgent('web-1');
  const big = Buffer.from(JSON.stringify({ blob: 'x'.repeat(300 * 1024) }));
  const r = await agent.request('PUT', '/api/v1/hosts/web-1/facts', big);
  t.equal(r.status, 413);
  t.equal(r.json().error.code, 'PAYLOAD_TOO_LARGE');
  const url = new URL(fx.base);
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/api/v1/agents/enroll', headers: { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (e) => (String(e).includes('EPIPE') || String(e).includes('ECONNRESET') ? resolve(413) : reject(e)));
    req.write('{"host":');
  });
  t.equal(status, 413);
});
