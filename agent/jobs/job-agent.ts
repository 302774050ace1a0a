/**
 * Wires the job channel for the agent daemon (`stead agent`, unless --no-jobs): the ledger in
 * `<data-dir>/jobs/ledger`, the private script directory `<data-dir>/jobs/tmp` (0700; leftovers
 * of a crash are removed at start), the helper libraries shipped beside this module (lib/), and
 * the loop. Runs until `signal` aborts.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentClient } from '../client/agent-client.js';
import type { BlobCache } from '../daemon/blob-cache.js';
import type { Logger } from '../daemon/json-logger.js';
import type { Host } from '../host/host.js';
import { ensurePrivateDir } from '../spool/atomic-file.js';
import type { JobContext } from './job-context.js';
import { JobLedger } from './job-ledger.js';
import { runJobLoop, type JobLoopConfig } from './job-loop.js';

/** The helper libraries (stead.sh, stead.py) as installed beside the agent's code. */
export const JOB_LIB_DIR = fileURLToPath(new URL('./lib/', import.meta.url)).replace(/\/$/, '');

export interface JobAgentOptions extends JobLoopConfig {
  readonly client: Pick<AgentClient, 'pollJobs' | 'startJob' | 'sendJobResult' | 'fetchBlob' | 'host'>;
  readonly dataDir: string;
  readonly host: Host;
  readonly blobs: Pick<BlobCache, 'read' | 'put'>;
  readonly stateDir: string;
  readonly log: Logger;
  readonly now?: () => number;
  readonly libDir?: string;
  readonly killGraceMs?: number;
}

/** The ledger and the script directory, created and cleaned; then the loop until `signal` aborts. */
export async function runJobAgent(o: JobAgentOptions, signal: AbortSignal): Promise<void> {
  const jobsDir = join(o.dataDir, 'jobs');
  await ensurePrivateDir(jobsDir);
  const tmpDir = join(jobsDir, 'tmp');
  await ensurePrivateDir(tmpDir);
  for (const name of await fsp.readdir(tmpDir)) await fsp.rm(join(tmpDir, name), { force: true, recursive: true });
  const log = o.log.child({ component: 'jobs' });
  const ledger = new JobLedger({ dir: join(jobsDir, 'ledger'), ...(o.now ? { now: o.now } : {}), onSetAside: (file, reason) => log.error('a job ledger file was set aside', { file, reason }) });
  await ledger.open();
  const libDir = o.libDir ?? JOB_LIB_DIR;
  const ctx: JobContext = {
    host: o.host,
    hostName: o.client.host,
    libDir,
    tmpDir,
    stateDir: o.stateDir,
    blobs: o.blobs,
    fetchBlob: (sha, s) => o.client.fetchBlob(sha, s),
    now: o.now ?? Date.now,
    log: (level, message, fields) => log[level](message, fields),
    ...(o.killGraceMs !== undefined ? { killGraceMs: o.killGraceMs } : {}),
  };
  log.info('job channel started', { ledger: ledger.size, maxConcurrent: o.maxConcurrent ?? 4 });
  await runJobLoop({ client: o.client, ledger, ctx, log }, o, signal);
  log.info('job channel stopped');
}
