/**
 * A files step (distribution): each JobFile goes through the engine's own file resource
 * (agent/resources/file.ts) — validate, read, diff, then apply and read+diff again — so
 * descriptor safety, atomic writes, backups and diffs are the engine's. A file that already has
 * the content (sha256) and metadata is `in-sync` and its blob is never fetched: blobs are fetched
 * lazily, into the blob cache, only when the resource asks for them. In a dry run a file that
 * differs is `would-change` with a bounded unified diff and nothing is written.
 */
import { createHash } from 'node:crypto';
import type { FileResource, JobFile, JobResult, JobWork } from '../../schemas/index.js';
import { file as fileResource, type FileActual } from '../resources/file.js';
import type { BlobSource, ResourceContext } from '../resources/resource.js';
import { MAX_DIFF_BYTES } from '../resources/file-diff.js';
import { isoTime, type JobContext } from './job-context.js';

type FileOutcome = NonNullable<JobResult['files']>[number];

/** Diff text kept per file (the wire allows 256 KiB). */
export const MAX_FILE_DIFF = 64 * 1024;

/** A BlobSource that reads the cache and fetches (then caches) only what is asked for. */
export function lazyBlobs(ctx: JobContext): BlobSource & { fetched: number } {
  const src = {
    fetched: 0,
    async get(ref: string, signal: AbortSignal): Promise<Buffer> {
      const m = /^sha256:([0-9a-f]{64})$/.exec(ref);
      if (!m) throw new Error(`not a blob reference: ${JSON.stringify(ref)}`);
      const hex = m[1]!;
      const cached = await ctx.blobs.read(hex);
      if (cached) return cached;
      const data = await ctx.fetchBlob(hex, signal);
      if (createHash('sha256').update(data).digest('hex') !== hex) throw new Error(`blob ${hex} failed verification`);
      await ctx.blobs.put(data);
      src.fetched++;
      return data;
    },
  };
  return src;
}

function boundedDiff(diff: string | undefined): string | undefined {
  if (diff === undefined || diff.length <= MAX_FILE_DIFF) return diff;
  return `${diff.slice(0, MAX_FILE_DIFF)}\n…[stead: diff cut at ${MAX_FILE_DIFF} characters]…\n`;
}

function desiredOf(f: JobFile): FileResource {
  return { type: 'file', path: f.path, source: f.source, ...(f.mode !== undefined ? { mode: f.mode } : {}), ...(f.owner !== undefined ? { owner: f.owner } : {}), ...(f.group !== undefined ? { group: f.group } : {}) };
}

async function oneFile(f: JobFile, work: JobWork, rctx: ResourceContext): Promise<FileOutcome> {
  const d = desiredOf(f);
  const problems = fileResource.validate(d);
  if (problems.length > 0) return { path: f.path, outcome: 'failed', message: problems.map((p) => `${p.path} ${p.message}`).join('; ').slice(0, 4096) };
  try {
    const actual = await fileResource.read(d, rctx);
    const changes = fileResource.diff(d, actual);
    if (changes.length === 0) return { path: f.path, outcome: 'in-sync' };
    const plan = { desired: d, actual, changes };
    const size = work.blobs?.[f.source];
    const diff = size !== undefined && size > MAX_DIFF_BYTES ? undefined : boundedDiff(await fileResource.describe(plan, rctx));
    if (work.noop) return { path: f.path, outcome: 'would-change', ...(diff !== undefined ? { diff } : {}) };
    await fileResource.apply(plan, rctx);
    const again: FileActual | undefined = await fileResource.read(d, rctx);
    const left = fileResource.diff(d, again);
    if (left.length > 0) return { path: f.path, outcome: 'failed', message: `still different after writing: ${left.map((c) => c.property).join(', ')}` };
    return { path: f.path, outcome: 'changed', ...(diff !== undefined ? { diff } : {}) };
  } catch (err) {
    return { path: f.path, outcome: 'failed', message: (err instanceof Error ? err.message : String(err)).slice(0, 4096) };
  }
}

export async function runFiles(work: JobWork, ctx: JobContext, stop: AbortSignal): Promise<JobResult> {
  const startedAt = ctx.now();
  const blobs = lazyBlobs(ctx);
  const rctx: ResourceContext = {
    host: ctx.host,
    blobs,
    signal: stop,
    stateDir: ctx.stateDir,
    catalogPaths: new Set(),
    log: (message, fields) => ctx.log('info', message, { dispatch: work.id, ...fields }),
  };
  const files: FileOutcome[] = [];
  let stoppedAt: number | undefined;
  for (const [i, f] of (work.files ?? []).entries()) {
    if (stop.aborted) {
      stoppedAt = i;
      break;
    }
    files.push(await oneFile(f, work, rctx));
  }
  const failed = files.filter((f) => f.outcome === 'failed').length;
  const reason = stop.reason as string | undefined;
  const state: JobResult['state'] = stoppedAt !== undefined ? (reason === 'shutdown' ? 'interrupted' : 'cancelled') : failed > 0 ? 'failed' : 'succeeded';
  const message = stoppedAt !== undefined ? `stopped after ${stoppedAt} of ${work.files?.length ?? 0} files` : failed > 0 ? `${failed} of ${files.length} files failed` : undefined;
  return { state, exitCode: null, stdout: '', stderr: '', files, ...(message ? { message } : {}), startedAt: isoTime(startedAt), finishedAt: isoTime(ctx.now()) };
}
