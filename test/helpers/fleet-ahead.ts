/**
 * bench:fleet's signed-ahead load generator. The question the bench answers is what one server
 * costs and how fast it answers, but on a 2-core machine the simulator shares the server's two
 * cores: signing two Ed25519 requests per run and driving them through node:http cost it ~510 µs
 * of CPU per run, 0.85 of a core at 100,000 agents every 60 s, which a real fleet spends on its
 * own hosts. So for the steady state the simulator signs every request of the measured window
 * before the window starts (each exactly as AgentClient signs it: same headers, same canonical
 * string, a fresh nonce, the report stamped for that run) and during the window only writes
 * those bytes to keep-alive sockets and reads the answers. The server does all of its work: it
 * checks every signature, claims every nonce, stores every report.
 *
 * The limit is the server's clock window (X-Stead-Time within 5 minutes, server/compose.ts): a
 * request signed ahead is as old as the signing time plus its place in the window, so the
 * window must be short (FLEET_AHEAD_MAX_SECONDS); longer windows sign live (--sign live).
 */
import net from 'node:net';
import { newNonce, signRequest } from '../../agent/identity/request-signature.js';
import { nextReport, type ReportExemplars } from './fleet-reports.js';
import type { RouteStats, SimAgent } from './fleet-sim.js';

/** The longest steady window signed ahead: with the signing time it stays well inside the 300 s clock window. */
export const FLEET_AHEAD_MAX_SECONDS = 200;

/** One agent's run, as bytes ready for the wire. */
export interface SignedRun {
  readonly get: Buffer;
  /** The report POST; absent for poll-only runs (the floor). */
  readonly report?: Buffer;
  readonly drift: boolean;
}

/** A request as AgentClient.request() puts it on the wire (node:http adds Host and Connection). */
export function wireRequest(a: SimAgent, origin: URL, method: 'GET' | 'POST', path: string, extra: Record<string, string>, body?: Buffer): Buffer {
  const headers: Record<string, string> = {
    host: origin.host,
    connection: 'keep-alive',
    accept: 'application/json',
    'user-agent': 'stead-agent',
    ...signRequest({ method, pathWithQuery: path, body, host: a.id.host, timeMs: Date.now(), nonce: newNonce() }, a.id.key),
    ...extra,
  };
  if (body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** Events (runs) of an N-agent open loop due before `windowMs` has passed: event k is due k × interval / N after the start. */
export function eventsWithin(n: number, intervalMs: number, windowMs: number): number {
  return Math.ceil((windowMs * n) / intervalMs);
}

/** Signs one run of agent `a` (its conditional poll, and its report when `reportsFor` is given). */
export function signRun(a: SimAgent, origin: URL, reportsFor: ((host: string) => ReportExemplars) | undefined, driftShare: number): SignedRun {
  const host = encodeURIComponent(a.id.host);
  const get = wireRequest(a, origin, 'GET', `/api/v1/hosts/${host}/catalog`, a.catalogId !== undefined ? { 'if-none-match': `"${a.catalogId}"` } : {});
  if (!reportsFor || a.catalogId === undefined) return { get, drift: false };
  const { report, drift } = nextReport(a, a.catalogId, reportsFor(a.id.host), driftShare);
  return { get, report: wireRequest(a, origin, 'POST', `/api/v1/hosts/${host}/reports`, {}, Buffer.from(JSON.stringify(report), 'utf8')), drift };
}

/** A phase's runs signed ahead, and the connections that send them. */
export interface AheadRuns {
  readonly pool: RawPool;
  readonly runs: readonly SignedRun[];
}

/** An answer: status and body. */
export interface RawAnswer {
  readonly status: number;
  readonly body: Buffer;
}

interface Pending {
  readonly req: Buffer;
  readonly resolve: (a: RawAnswer) => void;
  readonly reject: (e: Error) => void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

/** One keep-alive connection: one request at a time, Content-Length answers (what the server sends). */
class Conn {
  readonly socket: net.Socket;
  #pending: Pending | undefined;
  #chunks: Buffer[] = [];
  #have = 0;
  #bodyStart = -1;
  #need = -1;
  #status = 0;
  closed = false;

  constructor(port: number, hostname: string, readonly onFree: (c: Conn) => void, readonly onClosed: (c: Conn) => void) {
    this.socket = net.connect({ port, host: hostname });
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.#data(d));
    const gone = (err?: Error): void => {
      if (this.closed) return;
      this.closed = true;
      const p = this.#pending;
      this.#pending = undefined;
      p?.reject(err ?? new Error('socket closed before the answer (ECONNRESET)'));
      onClosed(this);
    };
    this.socket.on('error', gone);
    this.socket.on('close', () => gone());
  }

  send(p: Pending): void {
    this.#pending = p;
    this.#chunks = [];
    this.#have = 0;
    this.#bodyStart = -1;
    this.#need = -1;
    this.socket.write(p.req);
  }

  #data(d: Buffer): void {
    if (!this.#pending) {
      this.socket.destroy(new Error('bytes arrived with no request outstanding'));
      return;
    }
    this.#chunks.push(d);
    this.#have += d.length;
    if (this.#bodyStart < 0) {
      const all = this.#chunks.length === 1 ? d : Buffer.concat(this.#chunks);
      this.#chunks = [all];
      const end = all.indexOf(HEAD_END);
      if (end < 0) {
        if (all.length > MAX_HEAD) this.socket.destroy(new Error('answer head over 64 KiB'));
        return;
      }
      const head = all.toString('latin1', 0, end);
      this.#status = Number(head.slice(9, 12));
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (/\r\ntransfer-encoding:/i.test(head)) {
        this.socket.destroy(new Error('chunked answers are not expected from the server'));
        return;
      }
      this.#bodyStart = end + 4;
      this.#need = this.#status === 304 || this.#status === 204 ? 0 : cl ? Number(cl[1]) : 0;
    }
    if (this.#have < this.#bodyStart + this.#need) return;
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const p = this.#pending;
    this.#pending = undefined;
    this.#chunks = [];
    p.resolve({ status: this.#status, body: all.subarray(this.#bodyStart, this.#bodyStart + this.#need) });
    if (all.length > this.#bodyStart + this.#need) this.socket.destroy(new Error('more bytes than the answer announced'));
    else this.onFree(this);
  }
}

/** Up to `max` keep-alive connections to one origin; requests queue when all are busy. */
export class RawPool {
  readonly #port: number;
  readonly #hostname: string;
  readonly #max: number;
  readonly #idle: Conn[] = [];
  readonly #all = new Set<Conn>();
  readonly #queue: Pending[] = [];
  #qHead = 0;

  constructor(origin: URL, max: number) {
    this.#port = Number(origin.port);
    this.#hostname = origin.hostname;
    this.#max = max;
  }

  request(req: Buffer): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      const p = { req, resolve, reject };
      const c = this.#idle.shift() ?? (this.#all.size < this.#max ? this.#open() : undefined);
      if (c) c.send(p);
      else this.#queue.push(p);
    });
  }

  #open(): Conn {
    const c = new Conn(this.#port, this.#hostname, (conn) => this.#free(conn), (conn) => {
      this.#all.delete(conn);
      const i = this.#idle.indexOf(conn);
      if (i >= 0) this.#idle.splice(i, 1);
      // A queued request takes a fresh connection in its place.
      if (this.#qHead < this.#queue.length) this.#open().send(this.#take()!);
    });
    this.#all.add(c);
    return c;
  }

  #take(): Pending | undefined {
    if (this.#qHead >= this.#queue.length) return undefined;
    const p = this.#queue[this.#qHead++]!;
    if (this.#qHead > 4096 && this.#qHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#qHead);
      this.#qHead = 0;
    }
    return p;
  }

  #free(c: Conn): void {
    const p = this.#take();
    if (p) c.send(p);
    else this.#idle.push(c); // FIFO: every connection stays in use, none idles into the server's keep-alive timeout
  }

  close(): void {
    for (const c of this.#all) c.socket.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }
}

/** One signed-ahead run: the poll, then (on 304) its report. Latency as in fleet-sim's cycle(). */
export async function aheadCycle(pool: RawPool, a: SimAgent, run: SignedRun, dueMs: number, stats: RouteStats | undefined): Promise<void> {
  let polled = false;
  try {
    const r = await pool.request(run.get);
    const t = performance.now();
    if (r.status === 304) {
      stats?.add('GET catalog 304', t - dueMs);
      polled = true;
    } else if (r.status === 200) {
      // Not expected in the steady state (nothing is published in it): counted, and the run's
      // report, signed for the catalog the agent held, is not sent.
      stats?.add('GET catalog 200', t - dueMs);
    } else {
      stats?.error('GET catalog', new Error(`HTTP ${r.status}: ${r.body.toString('utf8', 0, 200)}`));
    }
  } catch (err) {
    stats?.error('GET catalog', err);
  }
  if (!polled || !run.report) return;
  const t0 = performance.now();
  try {
    const r = await pool.request(run.report);
    if ((r.status >= 200 && r.status <= 299) || r.status === 409) stats?.add(run.drift ? 'POST report (drift)' : 'POST report', performance.now() - t0);
    else stats?.error('POST report', new Error(`HTTP ${r.status}: ${r.body.toString('utf8', 0, 200)}`));
  } catch (err) {
    stats?.error('POST report', err);
  }
}
