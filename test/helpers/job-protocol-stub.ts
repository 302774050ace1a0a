/**
 * A PROTOCOL STUB of the server's side of the job channel (ADR 0014, schemas/job-protocol.ts),
 * for the agent's job tests until the real server routes land: the three agent routes on a real
 * HTTP server on loopback, with the contract's rules (answer a poll at once when there is work
 * not yet started or a cancel, else after `wait`; start moves dispatched → running and answers
 * run: true again to a retry; the first result is kept, a resend is a duplicate). It does not
 * check signatures, and it is not the server: it only lets the agent's code run for real.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobResult, JobWork } from '../../schemas/index.js';

export interface StubDispatch {
  readonly work: JobWork;
  state: 'dispatched' | 'running' | 'cancelling' | 'cancelled' | 'done';
  startAcks: number;
  results: JobResult[];
}

export interface JobProtocolStub {
  readonly url: string;
  readonly dispatches: Map<string, StubDispatch>;
  /** Every request: "GET /jobs?wait=25", "POST start <id>", "POST result <id>". */
  readonly requests: string[];
  add(work: JobWork): void;
  cancel(id: string): void;
  /** The next `n` requests (of any route) answer 500. */
  failNext(n: number): void;
  /** Start answers are computed but not sent (the connection is destroyed): a lost answer. */
  loseStartAnswers(n: number): void;
  /** Resolves when `pred` holds (checked after every request and every 20 ms), or rejects after `ms`. */
  until(pred: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startJobProtocolStub(host: string): Promise<JobProtocolStub> {
  const dispatches = new Map<string, StubDispatch>();
  const requests: string[] = [];
  const waiters = new Set<() => void>();
  let failures = 0;
  let lostStarts = 0;
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  const pending = (): { work: JobWork[]; cancel: string[] } => ({
    work: [...dispatches.values()].filter((d) => d.state === 'dispatched').map((d) => d.work),
    cancel: [...dispatches.values()].filter((d) => d.state === 'cancelling').map((d) => d.work.id),
  });
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  const base = `/api/v1/hosts/${encodeURIComponent(host)}/jobs`;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const path = url.pathname;
      if (failures > 0) {
        failures--;
        requests.push(`FAIL ${req.method} ${path}`);
        json(res, 500, { error: { code: 'STUB_FAILURE', message: 'stub failure' } });
        wake();
        return;
      }
      if (req.method === 'GET' && path === base) {
        const wait = Math.min(55, Number(url.searchParams.get('wait') ?? '25'));
        requests.push(`GET /jobs?wait=${wait}`);
        const answer = (): void => json(res, 200, pending());
        const now = pending();
        if (now.work.length > 0 || now.cancel.length > 0 || wait === 0) {
          answer();
          return;
        }
        const done = (): void => {
          waiters.delete(check);
          clearTimeout(timer);
          if (!res.writableEnded) answer();
        };
        const check = (): void => {
          const p = pending();
          if (p.work.length > 0 || p.cancel.length > 0) done();
        };
        const timer = setTimeout(done, wait * 1000);
        waiters.add(check);
        req.socket.on('close', () => {
          waiters.delete(check);
          clearTimeout(timer);
        });
        return;
      }
      const m = /^(.*)\/([^/]+)\/(start|result)$/.exec(path);
      if (req.method === 'POST' && m && m[1] === base) {
        const id = decodeURIComponent(m[2]!);
        const d = dispatches.get(id);
        requests.push(`POST ${m[3]} ${id}`);
        if (!d) {
          json(res, 404, { error: { code: 'NOT_FOUND', message: `no dispatch ${id}` } });
          return;
        }
        if (m[3] === 'start') {
          let body: { run: boolean; reason?: string };
          if (d.state === 'dispatched' || d.state === 'running') {
            d.state = 'running';
            d.startAcks++;
            body = { run: true };
          } else {
            body = { run: false, reason: d.state };
          }
          if (lostStarts > 0) {
            lostStarts--;
            req.socket.destroy();
          } else {
            json(res, 200, body);
          }
          wake();
          return;
        }
        const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as JobResult;
        d.results.push(result);
        const first = d.results.length === 1;
        if (first) d.state = 'done';
        json(res, 200, { stored: first, duplicate: !first });
        wake();
        return;
      }
      json(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    dispatches,
    requests,
    add(work) {
      dispatches.set(work.id, { work, state: 'dispatched', startAcks: 0, results: [] });
      wake();
    },
    cancel(id) {
      const d = dispatches.get(id);
      if (!d) return;
      if (d.state === 'dispatched') d.state = 'cancelled';
      else if (d.state === 'running') d.state = 'cancelling';
      wake();
    },
    failNext(n) {
      failures = n;
    },
    loseStartAnswers(n) {
      lostStarts = n;
    },
    async until(pred, ms = 30_000) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error('job protocol stub: condition not reached in time');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close() {
      wake();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
