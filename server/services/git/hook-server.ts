/**
 * The server's end of the pre-receive hook: a unix socket (mode 0600, in a 0700 directory of
 * the data dir) that takes one JSON line — the per-request secret, the ref updates, the push
 * options and the quarantine environment — and answers one JSON line `{ ok, lines }`. The hook
 * script (HookServer.script) prints the lines, which git shows as `remote: …`, and exits 1 on
 * refusal. Requests are bounded (1 MiB, 20 min).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../log.js';

export interface HookRequest {
  readonly secret: string;
  readonly updates: readonly { readonly old: string; readonly new: string; readonly ref: string }[];
  readonly pushOptions: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface HookAnswer {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

const maxRequest = 1024 * 1024;

export class HookServer {
  private constructor(
    private readonly server: net.Server,
    readonly path: string,
    private readonly dir: string | undefined,
  ) {}

  static async start(root: string, dataDir: string, handle: (req: HookRequest) => Promise<HookAnswer>, log: Logger): Promise<HookServer> {
    let dir = join(root, 'sock');
    let own: string | undefined;
    // A unix socket path is at most ~107 bytes; a deep data dir gets a private temp directory.
    if (join(dir, 'hook.sock').length > 100) {
      dir = await fsp.mkdtemp(join(tmpdir(), `stead-git-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}-`));
      own = dir;
    }
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await fsp.chmod(dir, 0o700);
    const path = join(dir, 'hook.sock');
    await fsp.rm(path, { force: true });
    const server = net.createServer((sock) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.setTimeout(20 * 60_000, () => sock.destroy());
      sock.on('error', () => undefined);
      sock.on('data', (chunk: string) => {
        buf += chunk;
        if (buf.length > maxRequest) {
          sock.destroy();
          return;
        }
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        sock.pause();
        let req: HookRequest;
        try {
          req = parseRequest(JSON.parse(buf.slice(0, nl)));
        } catch {
          sock.end(`${JSON.stringify({ ok: false, lines: ['stead: malformed hook request'] })}\n`);
          return;
        }
        handle(req).then(
          (a) => sock.end(`${JSON.stringify(a)}\n`),
          (err: unknown) => {
            log.error('pre-receive validation failed', { err: (err as Error).message });
            sock.end(`${JSON.stringify({ ok: false, lines: ['stead: the server failed to validate this push; see its log'] })}\n`);
          },
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await fsp.chmod(path, 0o600);
    return new HookServer(server, path, own);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
    await fsp.rm(this.path, { force: true });
    if (this.dir) await fsp.rm(this.dir, { recursive: true, force: true });
  }

  /**
   * The pre-receive hook: node, no dependencies, valid both as CommonJS and as an ES module
   * (only dynamic import), since the data dir may sit under a package.json of either type.
   */
  static script(node: string): string {
    return `#!${node}
// Written by the stead server: sends this push to the server for validation (ADR 0017).
Promise.all([import('node:net'), import('node:process')]).then(([netMod, procMod]) => {
  const net = netMod.default || netMod;
  const proc = procMod.default || procMod;
  const env = proc.env;
  const fail = (msg) => { proc.stderr.write(msg + '\\n'); proc.exit(1); };
  if (!env.STEAD_HOOK_SOCKET || !env.STEAD_HOOK_SECRET) return fail('stead: pushes go through the stead server only');
  let input = '';
  proc.stdin.setEncoding('utf8');
  proc.stdin.on('data', (c) => { input += c; if (input.length > 65536) fail('stead: too many ref updates'); });
  proc.stdin.on('end', () => {
    const updates = input.split('\\n').filter((l) => l.trim() !== '').map((l) => { const [o, n, ref] = l.split(' '); return { old: o, new: n, ref }; });
    const pushOptions = [];
    const count = Number(env.GIT_PUSH_OPTION_COUNT || 0);
    for (let i = 0; i < count && i < 50; i++) pushOptions.push(String(env['GIT_PUSH_OPTION_' + i] || ''));
    const qenv = {};
    for (const k of ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH']) if (env[k]) qenv[k] = env[k];
    const sock = net.connect(env.STEAD_HOOK_SOCKET);
    let answer = '';
    sock.setEncoding('utf8');
    sock.on('error', (e) => fail('stead: the server is unreachable for validation: ' + e.message));
    sock.on('data', (c) => { answer += c; });
    sock.on('end', () => {
      let a;
      try { a = JSON.parse(answer.split('\\n')[0]); } catch { return fail('stead: no answer from the server'); }
      for (const line of a.lines || []) proc.stderr.write(String(line) + '\\n');
      proc.exit(a.ok === true ? 0 : 1);
    });
    sock.write(JSON.stringify({ secret: env.STEAD_HOOK_SECRET, updates, pushOptions, env: qenv }) + '\\n');
  });
});
`;
  }
}

function parseRequest(v: unknown): HookRequest {
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o['secret'] !== 'string' || !Array.isArray(o['updates']) || !Array.isArray(o['pushOptions']) || typeof o['env'] !== 'object' || o['env'] === null) throw new Error('bad request');
  const updates = (o['updates'] as unknown[]).slice(0, 100).map((u) => {
    const x = u as Record<string, unknown>;
    return { old: String(x['old'] ?? ''), new: String(x['new'] ?? ''), ref: String(x['ref'] ?? '') };
  });
  const env: Record<string, string> = {};
  for (const [k, val] of Object.entries(o['env'] as Record<string, unknown>)) if (typeof val === 'string') env[k] = val;
  return { secret: o['secret'], updates, pushOptions: (o['pushOptions'] as unknown[]).slice(0, 50).map((x) => String(x).slice(0, 1000)), env };
}
