/**
 * Reading manifests from disk: one file, or every *.yaml / *.yml file of a directory merged
 * into one manifest (files in name order; the cross-resource checks run over all of them).
 */
import { readFile } from 'node:fs/promises';
import { listManifestFiles } from './list-manifest-files.js';
import type { ManifestProblem } from './manifest-problem.js';
import { finishManifests, parseManifest, parseManifestSource, type ParseResult, type SourcedManifest } from './parse-manifest.js';

/** Manifests larger than this are refused rather than parsed (a manifest is hand-written YAML). */
export const maxManifestBytes = 16 * 1024 * 1024;

/** Reads and checks one manifest file. Problems name the file as `path` was given. */
export async function loadManifestFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<ParseResult> {
  const text = await readText(path, opts.signal);
  if (typeof text !== 'string') return { manifest: undefined, problems: [text] };
  return parseManifest(text, path);
}

export { listManifestFiles };

/** Reads every manifest file of a directory and checks them as one manifest. */
export async function loadManifestDir(dir: string, opts: { signal?: AbortSignal } = {}): Promise<ParseResult> {
  const files = await listManifestFiles(dir, opts);
  return loadManifestFiles(files, opts);
}

/** Reads the given files and checks them as one manifest. */
export async function loadManifestFiles(files: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<ParseResult> {
  const sourced: SourcedManifest[] = [];
  const unreadable: ManifestProblem[] = [];
  for (const f of files) {
    const text = await readText(f, opts.signal);
    if (typeof text === 'string') sourced.push(parseManifestSource(text, f));
    else unreadable.push(text);
  }
  const result = finishManifests(sourced);
  if (unreadable.length === 0) return result;
  return { manifest: undefined, problems: [...unreadable, ...result.problems] };
}

async function readText(path: string, signal: AbortSignal | undefined): Promise<string | ManifestProblem> {
  try {
    const buf = await readFile(path, signal ? { signal } : {});
    if (buf.length > maxManifestBytes) return readProblem(path, `the file is ${buf.length} bytes; manifests are limited to ${maxManifestBytes} bytes`);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return text.startsWith('\uFEFF') ? text.slice(1) : text;
  } catch (err) {
    if (signal?.aborted) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e instanceof TypeError ? 'not valid UTF-8 text' : e.message;
    return readProblem(path, `cannot read the manifest: ${why}`);
  }
}

function readProblem(file: string, message: string): ManifestProblem {
  return { file, line: 0, column: 0, path: '', code: 'READ_FAILED', message, severity: 'error' };
}
