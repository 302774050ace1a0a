/**
 * The `probe` step (ADR 0014), run by the server against one host: a TCP connect, an HTTP(S)
 * status check, or both (TCP first). Every probe has a deadline (default 5 s, at most 300 s),
 * reads at most 64 KiB of an HTTP answer, follows no redirect (a 301 is reported as 301), and
 * sends no credentials. HTTPS does not verify the certificate: a probe asks "does it answer,
 * and with which status", not "who is it"; nothing secret travels over it.
 *
 * runProbe never rejects: every outcome is `{ ok, message }`, the message a sentence an operator
 * reads in the job view ("10.0.0.5:8080 refused", "HTTP 503, expected 200").
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface ProbeSpec {
  tcp?: { port: number };
  http?: { port: number; path?: string; status?: number; https?: boolean };
  timeoutSeconds?: number;
}

export interface ProbeOutcome {
  readonly ok: boolean;
  readonly message: string;
}

/** Default deadline of a probe, seconds. */
export const defaultProbeTimeoutSeconds = 5;
/** Largest deadline of a probe, seconds. */
export const maxProbeTimeoutSeconds = 300;
/** Bytes of an HTTP answer read before the connection is closed. */
export const probeReadLimit = 64 * 1024;

/** "10.0.0.5:8080", "[::1]:8080". */
export function hostPort(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

function validPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

function describeError(where: string, err: NodeJS.ErrnoException, timeoutSeconds: number): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${where} refused`;
    case 'ETIMEDOUT':
    case 'PROBE_TIMEOUT':
      return `${where}: no answer within ${timeoutSeconds} s`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} unreachable (${err.code})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: name not found`;
    case 'ECONNRESET':
      return `${where}: connection reset`;
    default:
      return `${where}: ${err.message}`;
  }
}

function timeoutError(): NodeJS.ErrnoException {
  return Object.assign(new Error('timeout'), { code: 'PROBE_TIMEOUT' });
}

function tcpProbe(address: string, port: number, timeoutSeconds: number, signal: AbortSignal): Promise<ProbeOutcome> {
  const where = hostPort(address, port);
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    let done = false;
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ ok: false, message: describeError(where, timeoutError(), timeoutSeconds) }), timeoutSeconds * 1000);
    const onAbort = (): void => finish({ ok: false, message: `${where}: probe cancelled` });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, message: `${where} accepts connections` }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, message: describeError(where, err, timeoutSeconds) }));
  });
}

function httpProbe(address: string, spec: NonNullable<ProbeSpec['http']>, timeoutSeconds: number, signal: AbortSignal): Promise<ProbeOutcome> {
  const where = hostPort(address, spec.port);
  const path = spec.path ?? '/';
  const expected = spec.status ?? 200;
  const scheme = spec.https === true ? 'https' : 'http';
  const url = `${scheme}://${where}${path}`;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(o);
    };
    const opts: https.RequestOptions = { host: address, port: spec.port, path, method: 'GET', agent: false, headers: { 'user-agent': 'stead-probe', accept: '*/*', connection: 'close' } };
    // The probe asks for a status, not an identity: self-signed certificates are fine.
    const req = spec.https === true ? https.request({ ...opts, rejectUnauthorized: false, servername: net.isIP(address) ? '' : address }) : http.request(opts);
    const timer = setTimeout(() => finish({ ok: false, message: describeError(url, timeoutError(), timeoutSeconds) }), timeoutSeconds * 1000);
    const onAbort = (): void => finish({ ok: false, message: `${url}: probe cancelled` });
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, message: describeError(url, err, timeoutSeconds) }));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      const settle = (): void => finish(status === expected ? { ok: true, message: `HTTP ${status} from ${url}` } : { ok: false, message: `HTTP ${status}, expected ${expected} (${url})` });
      // Read (and drop) a bounded amount of the body, so a server that answers slowly or with
      // gigabytes cannot hold the probe past the status line.
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= probeReadLimit) settle();
      });
      res.once('end', settle);
      res.once('error', settle);
      res.once('aborted', settle);
    });
    req.end();
  });
}

/**
 * Probes `address` (an IP address or a host name) as `probe` says. Invalid specs (no tcp and
 * no http, a port outside 1–65535, a path not starting with "/") answer ok: false.
 */
export async function runProbe(probe: ProbeSpec, address: string, signal: AbortSignal): Promise<ProbeOutcome> {
  const timeoutSeconds = probe.timeoutSeconds ?? defaultProbeTimeoutSeconds;
  if (!(timeoutSeconds > 0 && timeoutSeconds <= maxProbeTimeoutSeconds)) return { ok: false, message: `probe timeoutSeconds must be more than 0 and at most ${maxProbeTimeoutSeconds}` };
  if (!probe.tcp && !probe.http) return { ok: false, message: 'the probe has neither tcp nor http' };
  const addr = typeof address === 'string' ? address.replace(/^\[(.*)\]$/, '$1') : '';
  if (net.isIP(addr) === 0 && !/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(addr)) return { ok: false, message: `not a probe address (an IP address or a host name): ${JSON.stringify(String(address).slice(0, 80))}` };
  if (signal.aborted) return { ok: false, message: `${addr}: probe cancelled` };
  const messages: string[] = [];
  if (probe.tcp) {
    if (!validPort(probe.tcp.port)) return { ok: false, message: `tcp port must be 1-65535, got ${String(probe.tcp.port)}` };
    const r = await tcpProbe(addr, probe.tcp.port, timeoutSeconds, signal);
    if (!r.ok) return r;
    messages.push(r.message);
  }
  if (probe.http) {
    if (!validPort(probe.http.port)) return { ok: false, message: `http port must be 1-65535, got ${String(probe.http.port)}` };
    const path = probe.http.path ?? '/';
    if (!/^\/[\x21-\x7e]{0,2047}$/.test(path)) return { ok: false, message: 'http path must start with "/" and hold only visible ASCII (at most 2048 characters)' };
    const status = probe.http.status ?? 200;
    if (!(Number.isInteger(status) && status >= 100 && status <= 599)) return { ok: false, message: `http status must be 100-599, got ${String(status)}` };
    const r = await httpProbe(addr, probe.http, timeoutSeconds, signal);
    if (!r.ok) return r;
    messages.push(r.message);
  }
  return { ok: true, message: messages.join('; ') };
}
