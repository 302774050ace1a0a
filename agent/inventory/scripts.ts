/**
 * Operator collector scripts (ADR 0018 §5): admins store them on the server; they reach the agent
 * only inside the signed tracking config. Each runs like a job script (agent/jobs/job-process.ts):
 * the source in a private file (0400) in the agent's 0700 inventory temp directory, handed to the
 * interpreter as fd 4 (`/bin/sh /dev/fd/4`, `python3 /dev/fd/4`), its own process group killed
 * (SIGTERM, then SIGKILL) at its deadline (`timeoutSeconds`, default 30) or at the agent's
 * shutdown, stdin from /dev/null, a minimal environment, as the agent's user.
 *
 * stdout must be `{"resources":[{kind,name,id?,state?,attributes?}, …]}`: at most 1 MiB and 1,000
 * resources, each checked against the virtual resource schema; `source` is always the
 * collector's name. Anything else (a non-zero exit, a timeout, bad JSON, too much output) is an
 * `errors` entry "collector:NAME" and the collector contributes nothing.
 */
import { randomBytes } from 'node:crypto';
import { constants as C, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { compileGuard, type Collector, type Guard } from '../../schemas/index.js';
import { virtualResource } from '../../schemas/api/inventory.js';
import { runJobProcess } from '../jobs/job-process.js';
import { errorEntry, messageOf, type CollectEnv, type CollectorOutput, type InventoryCollector, type VirtualEntry } from './collector.js';
import { tail } from '../providers/run-command.js';

export const MAX_SCRIPT_OUTPUT = 1024 * 1024;
export const MAX_SCRIPT_RESOURCES = 1000;
const DEFAULT_TIMEOUT_S = 30;
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const { source: _source, host: _host, ...scriptResourceProps } = virtualResource.properties;
/** What a script prints: its resources without `source` and `host` (the agent sets the source). */
export const collectorOutputSchema = {
  $id: 'urn:stead:inventory:collector-output',
  type: 'object',
  required: ['resources'],
  properties: {
    resources: {
      type: 'array',
      maxItems: MAX_SCRIPT_RESOURCES,
      items: { type: 'object', additionalProperties: false, required: ['kind', 'name'], properties: scriptResourceProps },
    },
  },
} as const;
interface ScriptOutput {
  resources: Omit<VirtualEntry, 'source' | 'host'>[];
}
const isOutput: Guard<ScriptOutput> = compileGuard(collectorOutputSchema);

/** Runs one collector script; resolves its resources or throws an Error saying what went wrong. */
export async function runCollectorScript(c: Collector, env: CollectEnv): Promise<VirtualEntry[]> {
  const file = join(env.tmpDir, `collector-${randomBytes(8).toString('hex')}`);
  const fh = await fsp.open(file, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  const timeoutS = c.timeoutSeconds ?? DEFAULT_TIMEOUT_S;
  try {
    await fh.writeFile(c.source);
    await fh.chmod(0o400);
    const interpreter = c.lang === 'python' ? 'python3' : '/bin/sh';
    const r = await runJobProcess({
      file: interpreter,
      args: ['/dev/fd/4'],
      cwd: '/',
      env: { PATH: BASE_PATH, LANG: 'C.UTF-8', HOME: '/', STEAD_COLLECTOR: c.name },
      scriptFd: fh.fd,
      timeoutMs: timeoutS * 1000,
      cancel: env.signal,
      graceMs: env.killGraceMs,
      headBytes: MAX_SCRIPT_OUTPUT,
      tailBytes: 0,
      maxResultsBytes: 0,
    }).catch((err: unknown) => {
      throw new Error(`cannot run ${interpreter}: ${messageOf(err)}`);
    });
    if (r.timedOut) throw new Error(`killed after its timeout of ${timeoutS} s`);
    if (r.stopped) throw new Error('killed: the agent is stopping');
    if (r.code !== 0) throw new Error(`${r.code === null ? `killed by ${r.signal ?? 'a signal'}` : `exited with code ${r.code}`}${r.stderr.text.trim() ? `: ${tail(r.stderr.text, 1000)}` : ''}`);
    if (r.stdout.truncated) throw new Error(`printed ${r.stdout.totalBytes} bytes, more than the ${MAX_SCRIPT_OUTPUT} allowed; ignored`);
    let data: unknown;
    try {
      data = JSON.parse(r.stdout.text);
    } catch {
      throw new Error(`did not print JSON: ${JSON.stringify(r.stdout.text.slice(0, 200))}`);
    }
    const problems = isOutput.check(data);
    if (problems.length > 0) throw new Error(`printed JSON that is not {"resources":[…]}: ${problems.slice(0, 5).map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`);
    return (data as ScriptOutput).resources.map((res) => ({ ...res, source: c.name }));
  } finally {
    await fh.close().catch(() => undefined);
    await fsp.rm(file, { force: true });
  }
}

export const scriptsCollector: InventoryCollector = {
  source: 'collector',
  wanted: (config) => config.collectors.length > 0,
  async collect(config, env): Promise<CollectorOutput> {
    const virtuals: VirtualEntry[] = [];
    const errors = [];
    for (const c of config.collectors) {
      if (env.signal.aborted) break;
      try {
        virtuals.push(...(await runCollectorScript(c, env)));
      } catch (err) {
        errors.push(errorEntry(`collector:${c.name}`, messageOf(err)));
      }
    }
    return { virtuals, errors };
  },
};
