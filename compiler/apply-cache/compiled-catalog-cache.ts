/**
 * The last catalog `stead apply` compiled, kept in its state directory
 * (`compiled-catalog.cache`, 0600) under the key of its inputs (input-key.ts), so a run whose
 * manifest, templates, files, host, facts read and stead version are unchanged skips parsing,
 * checking and compiling. The file is trusted only as trusted-file.ts allows (ownership, modes,
 * O_NOFOLLOW, its recorded sha256); anything else — absent, another key, another format,
 * damaged, foreign — is a miss with a reason, and the caller compiles.
 *
 * What an entry holds: the catalog, the compile's warnings (shown again on a hit), the bytes of
 * the blobs the compile rendered (templates, inline content), and for the blobs that are files
 * under files/ only their path: the engine reads those again from files/, verified against
 * their sha256, only when a resource needs its content.
 */
import type { Catalog } from '../../schemas/index.js';
import type { LocatedProblem } from '../manifest/manifest-problem.js';
import { applyCacheFormat } from './input-key.js';
import { readTrustedFile, writeTrustedFile } from './trusted-file.js';

export const compiledCatalogFile = 'compiled-catalog.cache';
/** Entries larger than this are not written (and not read). */
export const maxCompiledCatalogBytes = 256 * 1024 * 1024;

export interface CachedCompile {
  readonly catalog: Catalog;
  /** Warnings of the compile (an entry is only written for a compile without errors). */
  readonly problems: readonly LocatedProblem[];
  /** Rendered blobs: ref → content. */
  readonly rendered: ReadonlyMap<string, Buffer>;
  /** Blobs that are files under files/: ref → path relative to files/. */
  readonly sources: ReadonlyMap<string, string>;
}

export type CacheLookup = { readonly hit: CachedCompile } | { readonly miss: string; /** the file is there but was refused: worth a warning */ readonly refused: boolean };

interface Stored {
  format: number;
  key: string;
  catalog: Catalog;
  problems: LocatedProblem[];
  rendered: Record<string, string>;
  sources: Record<string, string>;
}

/** The entry for `key` in `stateDir`, or why there is none. Never throws. */
export function loadCompiledCatalog(stateDir: string, key: string): CacheLookup {
  const r = readTrustedFile(stateDir, compiledCatalogFile, maxCompiledCatalogBytes);
  if (!r.ok) return { miss: r.reason, refused: r.absent !== true };
  let s: Stored;
  try {
    s = JSON.parse(r.body.toString('utf8')) as Stored;
  } catch (err) {
    return { miss: `${compiledCatalogFile}: ${(err as Error).message}`, refused: true };
  }
  if (s.format !== applyCacheFormat) return { miss: `${compiledCatalogFile} has format ${String(s.format)}`, refused: false };
  if (s.key !== key) return { miss: 'the inputs changed', refused: false };
  if (typeof s.catalog !== 'object' || s.catalog === null || !Array.isArray(s.catalog.resources) || !Array.isArray(s.problems) || typeof s.rendered !== 'object' || typeof s.sources !== 'object') {
    return { miss: `${compiledCatalogFile} is not a compiled catalog`, refused: true };
  }
  const rendered = new Map<string, Buffer>();
  for (const [ref, b64] of Object.entries(s.rendered)) rendered.set(ref, Buffer.from(b64, 'base64'));
  return { hit: { catalog: s.catalog, problems: s.problems, rendered, sources: new Map(Object.entries(s.sources)) } };
}

/**
 * Stores a compile under `key`: blobs whose sha256 is a file under files/ (filesByHash) by path,
 * the others by content. Returns why it was not stored, or undefined. Never throws.
 */
export function saveCompiledCatalog(
  stateDir: string,
  key: string,
  entry: { catalog: Catalog; problems: readonly LocatedProblem[]; blobs: ReadonlyMap<string, Buffer>; filesByHash: ReadonlyMap<string, string> },
): string | undefined {
  const stored: Stored = { format: applyCacheFormat, key, catalog: entry.catalog, problems: [...entry.problems], rendered: {}, sources: {} };
  for (const [ref, data] of entry.blobs) {
    const rel = entry.filesByHash.get(ref.slice('sha256:'.length));
    if (rel !== undefined) stored.sources[ref] = rel;
    else stored.rendered[ref] = data.toString('base64');
  }
  const body = Buffer.from(JSON.stringify(stored), 'utf8');
  if (body.length > maxCompiledCatalogBytes) return `the compiled catalog is ${body.length} bytes (limit ${maxCompiledCatalogBytes})`;
  const w = writeTrustedFile(stateDir, compiledCatalogFile, body);
  return w.ok ? undefined : w.reason;
}
