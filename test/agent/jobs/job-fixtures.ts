/** Shared fixtures of the agent's job tests: a JobContext on real temp dirs, and work items. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { BlobCache } from '../../../agent/daemon/blob-cache.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import type { JobContext } from '../../../agent/jobs/job-context.js';
import { JOB_LIB_DIR } from '../../../agent/jobs/job-agent.js';
import type { JobWork } from '../../../schemas/index.js';

export interface CtxOptions {
  readonly root?: string;
  readonly hostName?: string;
  readonly fetchBlob?: (sha: string, signal: AbortSignal) => Promise<Buffer>;
  readonly headBytes?: number;
  readonly tailBytes?: number;
}

/** A fresh temp directory removed when `t` ends (t.testdir() may be called only once per test). */
export function tempDir(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'stead-job-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export async function jobCtx(t: Test, dir: string, o: CtxOptions = {}): Promise<JobContext & { logs: string[] }> {
  const tmpDir = join(dir, 'tmp');
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const blobs = new BlobCache(join(dir, 'blobs'));
  await blobs.open();
  const logs: string[] = [];
  return {
    host: createNodeHost({ root: o.root ?? '/' }),
    hostName: o.hostName ?? 'web-1',
    libDir: JOB_LIB_DIR,
    tmpDir,
    stateDir: join(dir, 'state'),
    blobs,
    fetchBlob: o.fetchBlob ?? (async (sha) => {
      t.fail(`blob ${sha} fetched`);
      throw new Error('no blobs here');
    }),
    now: Date.now,
    log: (level, message) => logs.push(`${level} ${message}`),
    killGraceMs: 500,
    ...(o.headBytes !== undefined ? { headBytes: o.headBytes } : {}),
    ...(o.tailBytes !== undefined ? { tailBytes: o.tailBytes } : {}),
    logs,
  };
}

let seq = 0;
export function scriptWork(source: string, more: { lang?: 'shell' | 'python'; args?: string[]; env?: Record<string, string>; user?: string; cwd?: string; timeoutSeconds?: number; noop?: boolean; id?: string } = {}): JobWork {
  seq++;
  return {
    id: more.id ?? `j${seq}.0.web-1`,
    jobId: `j${seq}`,
    step: 0,
    kind: 'script',
    noop: more.noop ?? false,
    timeoutSeconds: more.timeoutSeconds ?? 60,
    script: { lang: more.lang ?? 'shell', source, ...(more.args ? { args: more.args } : {}), ...(more.env ? { env: more.env } : {}), ...(more.user ? { user: more.user } : {}), ...(more.cwd ? { cwd: more.cwd } : {}) },
  };
}
