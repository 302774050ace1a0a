/**
 * A `files` step (ADR 0014) made ready for one host: every file's content put into the blob
 * store by sha256, and the JobFile list (schemas/job-protocol.ts) the agent receives.
 *
 * Content comes from exactly one of:
 * - `content`: the text as written (UTF-8). Unlike a manifest's inline string it is NOT a
 *   template: what the operator typed is what lands;
 * - `contentBase64`: bytes (strict base64);
 * - `template`: a Jinja2 template of the live revision's templates/ folder, rendered for the host
 *   with its variables and the job's variables on top (job-templates.ts).
 *
 * Bounds: at most 1000 files, `maxJobFileBytes` per file and `maxJobStepBytes` per step (after
 * decoding or rendering). Paths must be absolute, without "." or ".." segments, "//", NUL or
 * control characters, and unique within the step. A template whose output depends on a secret
 * is refused: its plaintext would rest in the blob store (security.md S3).
 */
import { createHash } from 'node:crypto';
import type { JobFile } from '../../../schemas/job-protocol.js';
import { ApiError } from '../../domain/errors.js';
import type { BlobStore } from '../../store/types.js';
import type { JobTemplateRenderer } from './job-templates.js';

export interface FilesStepSpec {
  files: { path: string; content?: string; contentBase64?: string; template?: string; mode?: string; owner?: string; group?: string }[];
}

export interface FilesStepContext {
  host: string;
  vars: Record<string, unknown>;
  blobs: BlobStore;
  signal: AbortSignal;
  /** Renders `template:` files (Services.jobTemplates). Without it a template file is refused. */
  templates?: JobTemplateRenderer;
  /** Lower bounds than the defaults (maxJobFileBytes, maxJobStepBytes); higher ones are ignored. */
  limits?: { fileBytes?: number; stepBytes?: number };
}

export interface PreparedFiles {
  files: JobFile[];
  /** Size of every blob the files reference, by "sha256:<hex>" (JobWork.blobs). */
  blobs: Record<string, number>;
}

/** Largest content of one file (bytes). */
export const maxJobFileBytes = 32 * 1024 * 1024;
/** Largest content of all files of one step together (bytes). */
export const maxJobStepBytes = 128 * 1024 * 1024;
/** Files in one step (JobWork.files allows 1000). */
export const maxJobFiles = 1000;

const modeRe = /^0?[0-7]{3,4}$/;
const accountRe = /^[a-z_][a-z0-9_.-]{0,31}\$?$/;
const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why `path` is not a valid job file path, or undefined when it is. */
export function badJobPath(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'a path is required';
  if (path.length > 4096) return 'the path is longer than 4096 characters';
  if (!path.startsWith('/')) return 'the path must be absolute (start with "/")';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'the path holds a control character';
  if (path === '/' || path.endsWith('/')) return 'the path must name a file, not a directory';
  const segments = path.slice(1).split('/');
  if (segments.some((s) => s === '')) return 'the path holds an empty segment ("//")';
  if (segments.some((s) => s === '.' || s === '..')) return 'the path holds a "." or ".." segment';
  return undefined;
}

function badTemplateName(name: string): string | undefined {
  if (name.length === 0 || name.length > 1024) return 'the template name must be 1-1024 characters';
  if (name.startsWith('/') || name.includes('\\') || name.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'the template name must be relative to templates/, without "." or ".." segments or backslashes';
  return undefined;
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function mib(n: number): string {
  return n < 1024 * 1024 ? `${n} bytes` : `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
}

/**
 * Validates the step, decodes or renders each file's content, stores it (by sha256) and
 * returns the JobFile list with blob sizes. Throws ApiError BAD_REQUEST for an invalid step,
 * PAYLOAD_TOO_LARGE beyond a bound, COMPILE_FAILED for a template that does not render (the
 * message names the template and its line), NO_LIVE_REVISION / NOT_FOUND when a template has
 * no revision or the host is not in its inventory.
 */
export async function prepareFiles(step: FilesStepSpec, ctx: FilesStepContext): Promise<PreparedFiles> {
  const files = step?.files;
  if (!Array.isArray(files) || files.length === 0) throw new ApiError('BAD_REQUEST', 'a files step needs at least one file');
  if (files.length > maxJobFiles) throw new ApiError('BAD_REQUEST', `a files step holds at most ${maxJobFiles} files, this one ${files.length}`);
  const seen = new Set<string>();
  const contents: (Buffer | undefined)[] = [];
  const templates: { index: number; path: string; template: string }[] = [];
  let total = 0;
  const fileMax = Math.min(maxJobFileBytes, ctx.limits?.fileBytes ?? Infinity);
  const stepMax = Math.min(maxJobStepBytes, ctx.limits?.stepBytes ?? Infinity);
  const count = (label: string, size: number): void => {
    if (size > fileMax) throw new ApiError('PAYLOAD_TOO_LARGE', `${label}: the content is ${mib(size)}, more than the ${mib(fileMax)} a job file may hold`);
    total += size;
    if (total > stepMax) throw new ApiError('PAYLOAD_TOO_LARGE', `${label}: the files of this step hold more than ${mib(stepMax)} together`);
  };
  for (const [i, f] of files.entries()) {
    const label = `files[${i}]${typeof f?.path === 'string' ? ` (${f.path.slice(0, 200)})` : ''}`;
    const fail = (why: string): never => {
      throw new ApiError('BAD_REQUEST', `${label}: ${why}`);
    };
    const bad = badJobPath(f?.path);
    if (bad) fail(bad);
    if (seen.has(f.path)) fail('the path appears twice in this step');
    seen.add(f.path);
    if (f.mode !== undefined && !(typeof f.mode === 'string' && modeRe.test(f.mode))) fail('mode must be an octal string such as "0644"');
    if (f.owner !== undefined && !(typeof f.owner === 'string' && accountRe.test(f.owner))) fail('owner must be a POSIX user name');
    if (f.group !== undefined && !(typeof f.group === 'string' && accountRe.test(f.group))) fail('group must be a POSIX group name');
    const given = [f.content, f.contentBase64, f.template].filter((v) => v !== undefined).length;
    if (given !== 1) fail('give exactly one of content, contentBase64 or template');
    if (f.content !== undefined) {
      if (typeof f.content !== 'string') fail('content must be a string');
      const data = Buffer.from(f.content, 'utf8');
      count(label, data.length);
      contents.push(data);
    } else if (f.contentBase64 !== undefined) {
      if (typeof f.contentBase64 !== 'string') fail('contentBase64 must be a string');
      // Refuse before decoding a body that cannot fit.
      count(label, Math.floor((f.contentBase64.length * 3) / 4) - (f.contentBase64.endsWith('==') ? 2 : f.contentBase64.endsWith('=') ? 1 : 0));
      if (!base64Re.test(f.contentBase64)) fail('contentBase64 is not valid base64 (standard alphabet, padded)');
      contents.push(Buffer.from(f.contentBase64, 'base64'));
    } else {
      if (typeof f.template !== 'string') fail('template must be a string');
      const badName = badTemplateName(f.template!);
      if (badName) fail(badName);
      templates.push({ index: i, path: f.path, template: f.template! });
      contents.push(undefined);
    }
  }
  if (templates.length > 0) {
    if (!ctx.templates) throw new ApiError('BAD_REQUEST', `${templates[0]!.path}: template files need the server's renderer, which this caller did not provide`);
    const rendered = await ctx.templates.render(ctx.host, templates.map(({ path, template }) => ({ path, template })), ctx.vars, ctx.signal);
    for (const [k, t] of templates.entries()) {
      const r = rendered[k];
      if (!r) throw new ApiError('COMPILE_FAILED', `${t.path}: the renderer returned no content`);
      if (r.sensitive) throw new ApiError('BAD_REQUEST', `files[${t.index}] (${t.path}): template ${t.template} uses a secret; job files cannot carry secrets (they would rest in the blob store): manage this file in a manifest`);
      count(`files[${t.index}] (${t.path})`, r.content.length);
      contents[t.index] = r.content;
    }
  }
  const out: JobFile[] = [];
  const blobs: Record<string, number> = {};
  for (const [i, f] of files.entries()) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const data = contents[i]!;
    const hex = sha256Hex(data);
    // put (not has-then-put): the put marks the blob, so blob retention cannot take it before the dispatch names it
    if (!(`sha256:${hex}` in blobs)) await ctx.blobs.put(hex, data);
    blobs[`sha256:${hex}`] = data.length;
    out.push({ path: f.path, source: `sha256:${hex}`, ...(f.mode !== undefined ? { mode: f.mode } : {}), ...(f.owner !== undefined ? { owner: f.owner } : {}), ...(f.group !== undefined ? { group: f.group } : {}) });
  }
  return { files: out, blobs };
}
