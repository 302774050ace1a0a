/**
 * /git/manifests.git: git's smart HTTP protocol served by the real `git http-backend` (CGI),
 * spawned per request with argv, a clean environment, a bounded body and a deadline
 * (ADR 0017 §1). HTTP Basic: the user name is ignored, the password is an operator token;
 * fetching needs any role, pushing needs admin. Before each request the mirror is brought to
 * the store's head; a receive-pack holds the mirror for its whole duration.
 *
 *   GET  /git/manifests.git/info/refs?service=git-upload-pack|git-receive-pack
 *   POST /git/manifests.git/git-upload-pack
 *   POST /git/manifests.git/git-receive-pack
 */
import { canChange, isAdmin, isScoped, type Scope } from '../domain/roles.js';
import { spawn } from 'node:child_process';
import type { Middleware } from 'koa';
import type { AppState } from './app-state.js';
import type { Services } from '../services/services.js';
import { cleanGitEnv } from '../services/git/git-exec.js';
import type { Logger } from '../log.js';

export const gitPrefix = '/git/manifests.git';
/** Largest request body (a pack) accepted. */
export const gitBodyLimit = 256 * 1024 * 1024;
/** Deadline of one git request. */
export const gitRequestMs = 20 * 60_000;

type GitRequestKind = { path: string; service: 'git-upload-pack' | 'git-receive-pack'; method: 'GET' | 'POST' };

function classify(method: string, path: string, query: string): GitRequestKind | undefined {
  const rest = path.slice(gitPrefix.length);
  if (rest === '/info/refs' && (method === 'GET' || method === 'HEAD')) {
    const m = /(?:^|&)service=(git-upload-pack|git-receive-pack)(?:&|$)/.exec(query);
    if (!m) return undefined;
    return { path: rest, service: m[1] as GitRequestKind['service'], method: 'GET' };
  }
  if ((rest === '/git-upload-pack' || rest === '/git-receive-pack') && method === 'POST') return { path: rest, service: rest.slice(1) as GitRequestKind['service'], method: 'POST' };
  return undefined;
}

function plain(ctx: Parameters<Middleware<AppState>>[0], status: number, text: string): void {
  ctx.status = status;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = `${text}\n`;
}

/** Operator from HTTP Basic (any user name, the token as password). */
async function basicOperator(header: string, services: Services): Promise<{ name: string; role: string; scope?: Scope } | undefined> {
  const m = /^Basic ([A-Za-z0-9+/=]{1,4096})$/.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const token = decoded.slice(colon + 1).trim();
  if (token === '' || token.length > 512) return undefined;
  return services.operators.authenticate(token);
}

export function gitMiddleware(services: Services, log: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.path !== gitPrefix && !ctx.path.startsWith(`${gitPrefix}/`)) return next();
    ctx.state.routeName = gitPrefix;
    const gitService = services.git;
    const kind = classify(ctx.method, ctx.path, ctx.querystring);
    if (!kind) return plain(ctx, 404, 'not a git smart-HTTP request (clone https://<server>/git/manifests.git)');
    const op = await basicOperator(ctx.get('authorization'), services);
    if (!op) {
      ctx.set('WWW-Authenticate', 'Basic realm="stead"');
      return plain(ctx, 401, 'authentication required: any user name, an operator token as password');
    }
    // A push publishes to the whole fleet: an admin or an unscoped operator (ADR 0020).
    if (kind.service === 'git-receive-pack' && (!canChange(op.role) || (!isAdmin(op.role) && isScoped(op.scope)))) return plain(ctx, 403, `role ${op.role}${isScoped(op.scope) ? ' with a scope' : ''} may not push; pushing needs an admin or an operator without a scope`);
    if (!gitService || !(await gitService.available())) return plain(ctx, 503, 'git is not installed on this server (install the "git" package); the manifest repository is unavailable');
    const contentLength = ctx.get('content-length');
    if (contentLength !== '' && (!/^\d{1,12}$/.test(contentLength) || Number(contentLength) > gitBodyLimit)) return plain(ctx, 413, `the request body is larger than ${gitBodyLimit} bytes`);

    const push = kind.method === 'POST' && kind.service === 'git-receive-pack';
    // A server that published revisions before it had a history starts it from the live one.
    await gitService.bootstrap();
    let release: () => void = () => undefined;
    if (push) {
      // Hold the mirror for the whole push: a sync must not move main under it.
      const held = new Promise<void>((r) => (release = r));
      const got = new Promise<void>((r) => {
        void gitService.withMirror(async () => {
          r();
          await held;
        });
      });
      await got;
    }
    let pushEnv: ReturnType<typeof gitService.pushEnvironment> | undefined;
    try {
      if (push) await gitService.sync();
      else if (!(await gitService.upToDate())) await gitService.withMirror(() => gitService.sync());
      pushEnv = push ? gitService.pushEnvironment(op.name, ctx.ip) : undefined;
      await runBackend(ctx, gitService.root, gitService.home, kind, op.name, pushEnv?.env ?? {}, log);
    } finally {
      pushEnv?.done();
      release();
    }
  };
}

/** Spawns `git http-backend`, streams the request body in (bounded) and its CGI answer out. */
function runBackend(ctx: Parameters<Middleware<AppState>>[0], root: string, home: string, kind: GitRequestKind, user: string, extraEnv: Record<string, string>, log: Logger): Promise<void> {
  const env: Record<string, string> = {
    ...cleanGitEnv(home),
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_HTTP_MAX_REQUEST_BUFFER: String(gitBodyLimit),
    REQUEST_METHOD: kind.method,
    PATH_INFO: `/manifests.git${kind.path}`,
    QUERY_STRING: ctx.querystring.slice(0, 1000),
    REMOTE_USER: user.replace(/[^\x20-\x7e]/g, '_').slice(0, 100),
    REMOTE_ADDR: ctx.ip || '127.0.0.1',
    CONTENT_TYPE: ctx.get('content-type').slice(0, 200),
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    ...extraEnv,
  };
  const len = ctx.get('content-length');
  if (len !== '') env['CONTENT_LENGTH'] = len;
  const enc = ctx.get('content-encoding');
  if (enc === 'gzip' || enc === 'x-gzip') env['HTTP_CONTENT_ENCODING'] = enc;
  const proto = ctx.get('git-protocol');
  if (/^[A-Za-z0-9=:._-]{1,100}$/.test(proto)) env['GIT_PROTOCOL'] = proto;

  return new Promise<void>((resolve) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const res = ctx.res;
    ctx.respond = false;
    let done = false;
    let headersSent = false;
    let stderr = '';
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    const fail = (status: number, message: string): void => {
      child.kill('SIGKILL');
      if (!headersSent) {
        headersSent = true;
        ctx.status = status;
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${message}\n`);
      } else {
        res.destroy();
      }
    };
    const timer = setTimeout(() => fail(504, 'the git request took too long'), gitRequestMs);
    child.on('error', (e) => {
      fail(503, `git http-backend could not start: ${e.message}`);
      finish();
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 8192) stderr += c.toString('utf8');
    });
    // The request body, bounded.
    let received = 0;
    ctx.req.on('data', (c: Buffer) => {
      received += c.length;
      if (received > gitBodyLimit) {
        ctx.req.unpipe(child.stdin);
        fail(413, `the request body is larger than ${gitBodyLimit} bytes`);
      }
    });
    ctx.req.on('aborted', () => child.kill('SIGKILL'));
    child.stdin.on('error', () => undefined);
    if (kind.method === 'POST') ctx.req.pipe(child.stdin);
    else child.stdin.end();
    // The CGI answer: headers until an empty line, then the body.
    let head = Buffer.alloc(0);
    child.stdout.on('data', (c: Buffer) => {
      if (headersSent) {
        if (!res.write(c)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, c]);
      let end = head.indexOf('\r\n\r\n');
      let sep = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sep = 2;
      }
      if (end < 0) {
        if (head.length > 65536) fail(502, 'git http-backend sent malformed headers');
        return;
      }
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]) || 500;
        else headers[k] = v;
      }
      headersSent = true;
      ctx.status = status;
      res.writeHead(status, headers);
      const rest = head.subarray(end + sep);
      if (rest.length > 0) res.write(rest);
    });
    child.on('close', (code) => {
      if (code !== 0 && code !== null) log.warn('git http-backend failed', { code, stderr: stderr.slice(0, 2000), service: kind.service });
      if (!headersSent) {
        headersSent = true;
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('git http-backend failed\n');
      } else if (!res.writableEnded) res.end();
      finish();
    });
  });
}
