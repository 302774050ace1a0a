/**
 * The cache key of a masterless compile (`stead apply PATH`): sha256 over everything the compile
 * reads, by content — never by file times, which a same-size rewrite within the clock's
 * granularity (or a restored backup) can leave unchanged:
 *  - a manifest FILE, or a DIR's *.yaml files, or every file of a manifest repository (as its
 *    loader lists them: no dot-files);
 *  - every file under templates/ and files/ beside them (dot-files included: a template or a
 *    source may name one);
 *  - the host name, the facts the compile can read (facts-read.ts), the stead version and this
 *    key's format.
 * A tree holding a symbolic link or a special file, a repository compiled with a secret key
 * (its catalog would hold decrypted secrets at rest), or texts that read the facts as a whole
 * while they hold the uptime (no entry could ever be used again) are not cached:
 * `cacheable: false` with why.
 * Files are hashed through one reusable buffer, so the key costs about what reading them costs.
 */
import { createHash, hash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { canonicalJson } from '../catalog/canonical-json.js';
import { listManifestFiles } from '../manifest/list-manifest-files.js';
import { factsForKey, factsRead, type ScannedText } from './facts-read.js';

/** Bumped whenever what a cache entry holds, or how this key is made, changes. */
export const applyCacheFormat = 1;

/** Text files (manifests, templates) larger than this are hashed but not scanned: all facts count as read. */
const MAX_SCANNED_BYTES = 16 * 1024 * 1024;

export interface ApplyInputKeyOptions {
  /** The host the catalog is for (inventory_hostname). */
  readonly host: string;
  /** This machine's facts, as the compile gets them. */
  readonly facts: unknown;
  /** The stead version (a new version may compile differently). */
  readonly version: string;
  /** Set when a repository compile would decrypt secrets (STEAD_SECRET_KEY_FILE). */
  readonly secretKeyFile?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type ApplyInputKey =
  | {
      readonly cacheable: true;
      /** sha256 hex of the inputs. */
      readonly key: string;
      /** The files/ folder sources are read from. */
      readonly filesRoot: string;
      /** sha256 hex of each file under files/ → its path relative to filesRoot (how a cached catalog's blobs are found again). */
      readonly filesByHash: ReadonlyMap<string, string>;
    }
  | { readonly cacheable: false; readonly reason: string };

class Uncacheable extends Error {}

/** Computes the key of compiling `target` (a manifest file, a manifest directory or a repository) for opts.host. */
export async function applyInputKey(target: string, opts: ApplyInputKeyOptions): Promise<ApplyInputKey> {
  const path = resolve(target);
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return { cacheable: false, reason: `${path} does not exist` };
  const isDir = st.isDirectory();
  const repo = isDir && statSync(join(path, 'stead.yaml'), { throwIfNoEntry: false })?.isFile() === true;
  const base = isDir ? path : dirname(path);
  const h = createHash('sha256');
  h.update(`stead-apply-cache\0${applyCacheFormat}\0${opts.version}\0${repo ? 'repository' : isDir ? 'directory' : 'file'}\0${path}\0${opts.host}\0`);
  const hasher = new TreeHasher(h, opts.signal);
  try {
    if (repo) {
      if (opts.secretKeyFile) return { cacheable: false, reason: 'the repository is compiled with a secret key (its catalog would keep decrypted secrets on disk)' };
      hasher.tree(base, '', (rel) => rel.startsWith('templates/') || rel.startsWith('files/'));
    } else {
      const manifests = isDir ? await listManifestFiles(path, opts.signal ? { signal: opts.signal } : {}) : [path];
      for (const m of manifests) hasher.file(m, `manifest/${basename(m)}`, 'yaml', true);
      hasher.tree(join(base, 'templates'), 'templates', () => true);
      hasher.tree(join(base, 'files'), 'files', () => true);
    }
  } catch (err) {
    if (err instanceof Uncacheable) return { cacheable: false, reason: err.message };
    if (opts.signal?.aborted) throw err;
    return { cacheable: false, reason: `cannot read the inputs: ${(err as Error).message}` };
  }
  const facts = opts.facts ?? {};
  const keys = new Set(typeof facts === 'object' && facts !== null ? Object.keys(facts) : []);
  const read = factsRead(hasher.texts, keys);
  // Every fact in the key includes the uptime (seconds), so such an entry would never be used
  // again: not writing it is the same answer, without the write.
  if (read.all && keys.has('uptimeSeconds')) return { cacheable: false, reason: 'a template or group rule reads the facts other than as facts.NAME (they include the uptime, which changes every run)' };
  h.update(`facts\0${canonicalJson(factsForKey(facts, read))}\0`);
  return { cacheable: true, key: h.digest('hex'), filesRoot: join(base, 'files'), filesByHash: hasher.filesByHash };
}

/** Hashes files by content into one key, through one reusable buffer. */
class TreeHasher {
  readonly texts: ScannedText[] = [];
  readonly filesByHash = new Map<string, string>();
  readonly #buf = Buffer.allocUnsafe(64 * 1024);

  constructor(
    private readonly h: Hash,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * Every entry under `dir` (recorded as `label/…`), in name order. A missing folder is recorded
   * as absent; links and special files make the inputs uncacheable. `withDots(rel)`: whether
   * dot-entries at that relative path count (a repository's loader skips them outside
   * templates/ and files/).
   */
  tree(dir: string, label: string, withDots: (rel: string) => boolean): void {
    const top = lstatSync(dir, { throwIfNoEntry: false });
    if (!top) {
      this.h.update(`absent\0${label}\n`);
      return;
    }
    if (!top.isDirectory()) throw new Uncacheable(`${dir} is not a directory`);
    const visit = (abs: string, rel: string): void => {
      this.signal?.throwIfAborted();
      // The entry types from the directory itself (no lstat each); a file is fstat'ed once open.
      const entries = readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const name = e.name;
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (name.startsWith('.') && !withDots(childRel)) continue;
        const child = join(abs, name);
        const shown = label === '' ? childRel : `${label}/${childRel}`;
        if (e.isDirectory()) {
          this.h.update(`dir\0${shown}\n`);
          visit(child, childRel);
        } else if (e.isFile()) {
          const kind = shown.startsWith('files/') ? 'source' : shown.startsWith('templates/') ? 'template' : /\.ya?ml$/.test(name) ? 'yaml' : 'other';
          this.file(child, shown, kind, false);
        } else {
          throw new Uncacheable(`${child} is a symbolic link or a special file`);
        }
      }
    };
    visit(dir, '');
  }

  /** One file by content; templates and YAML are kept for the facts scan, sources indexed by hash. */
  file(abs: string, shown: string, kind: 'yaml' | 'template' | 'source' | 'other', follow: boolean): void {
    this.signal?.throwIfAborted();
    const fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK | (follow ? 0 : constants.O_NOFOLLOW));
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new Uncacheable(`${abs} is not a regular file`);
      const scan = (kind === 'yaml' || kind === 'template') && st.size <= MAX_SCANNED_BYTES;
      let hex: string;
      const chunks: Buffer[] = [];
      // The common case, a file that fits the buffer: one read and a one-shot hash, as the
      // engine's own file probe does. Larger files are hashed in chunks; a file still growing
      // is read to its end.
      const first = readSync(fd, this.#buf, 0, this.#buf.length, 0);
      if (first === st.size && first < this.#buf.length) {
        const data = this.#buf.subarray(0, first);
        hex = hash('sha256', data, 'hex');
        if (scan) chunks.push(Buffer.from(data));
      } else {
        const fileHash = createHash('sha256');
        let n = first;
        let pos = 0;
        while (n > 0) {
          const chunk = this.#buf.subarray(0, n);
          fileHash.update(chunk);
          if (scan) chunks.push(Buffer.from(chunk));
          pos += n;
          n = readSync(fd, this.#buf, 0, this.#buf.length, pos);
        }
        hex = fileHash.digest('hex');
      }
      this.h.update(`file\0${shown}\0${hex}\n`);
      if (kind === 'source') {
        const rel = shown.slice('files/'.length);
        if (!this.filesByHash.has(hex)) this.filesByHash.set(hex, rel);
      } else if (scan) this.texts.push({ data: Buffer.concat(chunks), yaml: kind === 'yaml' });
      else if (kind === 'yaml' || kind === 'template') this.texts.push({ data: Buffer.from('facts'), yaml: false }); // too large to scan: every fact counts
    } finally {
      closeSync(fd);
    }
  }
}
