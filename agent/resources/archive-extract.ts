/**
 * Safe extraction of tar, tar.gz and zip archives through the Host, into a fresh directory
 * (security.md F3). The whole archive is refused (ARCHIVE_UNSAFE) when any entry:
 * - has an absolute name, a drive letter, a backslash, NUL, or a ".." segment;
 * - is a hard link, a device, a FIFO or any type other than file, directory and symlink;
 * - is a symlink whose target is absolute, or leaves the directory once resolved against the
 *   whole extracted tree (linksStayInside: every link met on the way is followed, as the kernel
 *   would, so a chain `sub/l0 -> ..`, `sub/l1 -> l0/..`, `etc -> sub/l1/etc` is caught whatever
 *   the order of its entries), or cannot be resolved (a loop, more than 40 links, ".." after a
 *   name the archive does not make a directory);
 * - is written through a symlink of the same archive (a path whose parent is a link entry), so no
 *   write ever follows a link, not even one pointing inside;
 * - changes the kind of a path already extracted (a directory, then a link of the same name);
 * and it is refused with ARCHIVE_TOO_LARGE past maxEntries entries, maxBytes extracted bytes, or
 * a compression ratio above maxRatio once more than ratioFloorBytes are out (decompression bombs).
 * setuid, setgid and sticky bits of files and the setuid bit of directories are cleared
 * (neutralised); a directory keeps its sticky and setgid bits (a 1777 directory stays 1777: making
 * it 0777 would let anyone delete anyone's files); ownership in the archive is ignored.
 * The caller extracts into a temp directory and removes it when this throws.
 */
import { Parser, type ReadEntry } from 'tar';
import yauzl from 'yauzl';
import type { Host } from '../host/host.js';
import { ResourceError } from '../engine/engine-error.js';

export type ArchiveFormat = 'tar.gz' | 'tar' | 'zip';

export interface ExtractLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxRatio: number;
  readonly ratioFloorBytes: number;
}

export const defaultExtractLimits: ExtractLimits = {
  maxEntries: 50_000,
  maxBytes: 2 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 64 * 1024 ** 2,
};

export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
  /** Entries whose setuid/setgid/sticky bits were cleared. */
  readonly neutralised: number;
}

interface RawEntry {
  readonly name: string;
  readonly kind: 'file' | 'directory' | 'link' | 'other';
  readonly typeName: string;
  readonly mode: number | undefined;
  readonly data: Buffer;
  readonly target?: string;
}

/** Guesses the format from the first bytes: zip "PK\x03\x04"/"PK\x05\x06", gzip 1f 8b, else tar. */
export function sniffFormat(data: Buffer): ArchiveFormat {
  if (data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && (data[2] === 3 || data[2] === 5)) return 'zip';
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return 'tar.gz';
  return 'tar';
}

const unsafe = (msg: string) => new ResourceError('ARCHIVE_UNSAFE', msg);

class Budget {
  entries = 0;
  bytes = 0;
  constructor(
    private readonly limits: ExtractLimits,
    private readonly compressed: number,
  ) {}
  entry(): void {
    if (++this.entries > this.limits.maxEntries) throw new ResourceError('ARCHIVE_TOO_LARGE', `more than ${this.limits.maxEntries} entries`);
  }
  add(n: number): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxBytes) throw new ResourceError('ARCHIVE_TOO_LARGE', `more than ${this.limits.maxBytes} bytes when extracted`);
    if (this.bytes > this.limits.ratioFloorBytes && this.bytes / Math.max(1, this.compressed) > this.limits.maxRatio) {
      throw new ResourceError('ARCHIVE_TOO_LARGE', `compression ratio above ${this.limits.maxRatio}:1 (a decompression bomb?)`);
    }
  }
}

/** Reads tar entries, feeding the parser in slices so memory stays bounded by the budget. */
async function tarEntries(data: Buffer, budget: Budget, onEntry: (e: RawEntry) => Promise<void>, signal: AbortSignal): Promise<void> {
  // our Budget checks the ratio once past a floor; tar's own check (from the first byte) is switched off
  const parser = new Parser({ strict: true, maxDecompressionRatio: Number.MAX_SAFE_INTEGER });
  const pending: RawEntry[] = [];
  let failure: unknown;
  parser.on('entry', (entry: ReadEntry) => {
    try {
      budget.entry();
    } catch (err) {
      failure ??= err;
      entry.resume();
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => {
      try {
        budget.add(c.length);
        chunks.push(c);
      } catch (err) {
        failure ??= err;
      }
    });
    entry.on('end', () => {
      const t = entry.type;
      const kind = t === 'File' || t === 'OldFile' || t === 'ContiguousFile' ? 'file' : t === 'Directory' ? 'directory' : t === 'SymbolicLink' ? 'link' : 'other';
      pending.push({ name: entry.path, kind, typeName: t, mode: entry.mode, data: Buffer.concat(chunks), ...(entry.linkpath !== undefined ? { target: entry.linkpath } : {}) });
    });
  });
  parser.on('warn', (code: string, message: string | Error) => { failure ??= new ResourceError('ARCHIVE_INVALID', `${code}: ${typeof message === 'string' ? message : message.message}`); });
  parser.on('error', (err: Error) => { failure ??= new ResourceError('ARCHIVE_INVALID', err.message); });
  const SLICE = 64 * 1024;
  const drain = async () => {
    while (pending.length > 0) {
      if (failure) throw failure;
      await onEntry(pending.shift()!);
    }
    if (failure) throw failure;
  };
  for (let off = 0; off < data.length; off += SLICE) {
    signal.throwIfAborted();
    parser.write(data.subarray(off, Math.min(data.length, off + SLICE)));
    await drain();
  }
  await new Promise<void>((resolve) => parser.end(resolve));
  await drain();
}

async function zipEntries(data: Buffer, budget: Budget, onEntry: (e: RawEntry) => Promise<void>, signal: AbortSignal): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(data, { lazyEntries: true, validateEntrySizes: true, decodeStrings: true }, (err, z) => (err || !z ? reject(new ResourceError('ARCHIVE_INVALID', err?.message ?? 'not a zip file')) : resolve(z))),
  );
  try {
    for (;;) {
      signal.throwIfAborted();
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => { cleanup(); resolve(e); };
        const onEnd = () => { cleanup(); resolve(undefined); };
        const onError = (e: Error) => { cleanup(); reject(unsafe(`invalid zip entry: ${e.message}`)); };
        const cleanup = () => { zip.off('entry', onEntry); zip.off('end', onEnd); zip.off('error', onError); };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
      if (!entry) return;
      budget.entry();
      const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
      const fmt = unixMode & 0o170000;
      const isDir = entry.fileName.endsWith('/');
      const kind: RawEntry['kind'] = isDir || fmt === 0o040000 ? 'directory' : fmt === 0o120000 ? 'link' : fmt === 0 || fmt === 0o100000 ? 'file' : 'other';
      let body = Buffer.alloc(0);
      if (!isDir) {
        const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err || !s ? reject(new ResourceError('ARCHIVE_INVALID', err?.message ?? 'unreadable entry')) : resolve(s))));
        const chunks: Buffer[] = [];
        await new Promise<void>((resolve, reject) => {
          stream.on('data', (c: Buffer) => {
            try {
              budget.add(c.length);
              chunks.push(c);
            } catch (err) {
              (stream as unknown as { destroy(): void }).destroy();
              reject(err);
            }
          });
          stream.on('end', () => resolve());
          stream.on('error', (e: Error) => reject(new ResourceError('ARCHIVE_INVALID', e.message)));
        });
        body = Buffer.concat(chunks);
      }
      await onEntry({
        name: entry.fileName,
        kind,
        typeName: kind,
        mode: unixMode !== 0 ? unixMode & 0o7777 : undefined,
        data: kind === 'link' ? Buffer.alloc(0) : body,
        ...(kind === 'link' ? { target: body.toString('utf8') } : {}),
      });
    }
  } finally {
    zip.close();
  }
}

/** Splits an entry name into safe components (strip applied); undefined when nothing remains. */
export function entryComponents(name: string, strip: number): string[] | undefined {
  if (name.includes('\0')) throw unsafe(`entry name contains NUL: ${JSON.stringify(name.replace(/\0/g, '\\0'))}`);
  if (name.includes('\\')) throw unsafe(`entry name contains a backslash: ${JSON.stringify(name)}`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(`absolute entry name: ${JSON.stringify(name)}`);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw unsafe(`entry name with "..": ${JSON.stringify(name)}`);
  const rest = parts.slice(strip);
  return rest.length > 0 ? rest : undefined;
}

/** Whether a symlink at `parts` with `target` stays inside the extraction directory. */
export function linkStaysInside(parts: readonly string[], target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0') || target.includes('\\')) return false;
  const stack = parts.slice(0, -1);
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else {
      stack.push(c);
    }
  }
  return true;
}

/** Links one resolution follows at most (as Linux's MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;
/** Components one link's resolution handles at most (targets can be long in PAX headers). */
const MAX_RESOLVE_STEPS = 8192;

/**
 * Checks that every symlink of the extracted tree resolves inside it. `tree` maps each extracted
 * path ("a/b", after strip) to its kind, implicit parent directories included; `targets` maps
 * each link to its target. Resolution is the kernel's, confined: start in the link's directory;
 * "." stays; ".." leaves a directory of the tree (refused above the top, or out of anything the
 * tree does not make a directory, which could be anything once unpacked beside other files); a
 * name that is a link of the tree is replaced by its target (at most MAX_LINK_HOPS: a loop is
 * refused). Throws ARCHIVE_UNSAFE naming the link.
 */
export function linksStayInside(tree: ReadonlyMap<string, 'file' | 'directory' | 'link'>, targets: ReadonlyMap<string, string>): void {
  for (const [link, target] of targets) {
    const fail = (why: string) => unsafe(`symlink ${JSON.stringify(link)} -> ${JSON.stringify(target)} ${why}`);
    const stack = link.split('/').slice(0, -1);
    const queue = target.split('/');
    let hops = 0;
    let steps = 0;
    while (queue.length > 0) {
      if (++steps > MAX_RESOLVE_STEPS) throw fail('takes too many steps to resolve');
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length === 0) throw fail('resolves outside the directory');
        if (tree.get(stack.join('/')) !== 'directory') throw fail(`goes back up ("..") out of ${JSON.stringify(stack.join('/'))}, which the archive does not make a directory`);
        stack.pop();
        continue;
      }
      const p = [...stack, c].join('/');
      if (tree.get(p) === 'link') {
        if (++hops > MAX_LINK_HOPS) throw fail('is a symlink loop (or a chain of more than 40 links)');
        const next = targets.get(p)!;
        if (next.startsWith('/')) throw fail(`goes through ${JSON.stringify(p)}, an absolute symlink`);
        queue.unshift(...next.split('/'));
        continue;
      }
      stack.push(c);
    }
  }
}

/**
 * Extracts `data` into the existing directory `dest` (a manifest path) on the host. Throws
 * ARCHIVE_UNSAFE, ARCHIVE_TOO_LARGE or ARCHIVE_INVALID; the caller removes `dest` then.
 */
export async function extractArchive(
  host: Host,
  data: Buffer,
  dest: string,
  opts: { format?: ArchiveFormat; strip?: number; uid?: number; gid?: number; limits?: ExtractLimits; signal: AbortSignal },
): Promise<ExtractResult> {
  const format = opts.format ?? sniffFormat(data);
  const strip = opts.strip ?? 0;
  const budget = new Budget(opts.limits ?? defaultExtractLimits, data.length);
  const kinds = new Map<string, 'file' | 'directory' | 'link'>();
  const targets = new Map<string, string>();
  const dirModes: [string, number][] = [];
  const written: [string, 'file' | 'directory' | 'link'][] = [];
  let neutralised = 0;
  const root = dest.replace(/\/+$/, '');

  const onEntry = async (e: RawEntry): Promise<void> => {
    const parts = entryComponents(e.name, strip);
    if (!parts) return;
    if (e.kind === 'other') throw unsafe(`entry ${JSON.stringify(e.name)} is a ${e.typeName} (only files, directories and symlinks are extracted)`);
    const rel = parts.join('/');
    for (let k = 1; k < parts.length; k++) {
      const prefix = parts.slice(0, k).join('/');
      const pk = kinds.get(prefix);
      if (pk === 'link') throw unsafe(`entry ${JSON.stringify(e.name)} would be written through the symlink ${prefix}`);
      if (pk === 'file') throw unsafe(`entry ${JSON.stringify(e.name)} is below the file ${prefix}`);
      if (pk === undefined) kinds.set(prefix, 'directory'); // made by the mkdir below
    }
    const prev = kinds.get(rel);
    if (prev !== undefined && (prev !== e.kind || e.kind === 'link')) throw unsafe(`entry ${JSON.stringify(e.name)} replaces an earlier ${prev} of the same name`);
    const path = `${root}/${rel}`;
    if (parts.length > 1) await host.mkdir(`${root}/${parts.slice(0, -1).join('/')}`, { recursive: true, mode: 0o755 });
    const raw = e.mode ?? (e.kind === 'directory' ? 0o755 : 0o644);
    // a directory keeps sticky and setgid; everything else loses its special bits
    const keep = e.kind === 'directory' ? 0o3777 : 0o777;
    if (raw & 0o7000 & ~keep) neutralised++;
    const mode = raw & keep;
    switch (e.kind) {
      case 'directory':
        await host.mkdir(path, { recursive: true, mode: 0o700 });
        dirModes.push([path, mode]);
        break;
      case 'file':
        await host.writeFileAtomic(path, e.data, { mode, ...(opts.uid !== undefined ? { uid: opts.uid } : {}), ...(opts.gid !== undefined ? { gid: opts.gid } : {}) });
        break;
      case 'link': {
        const target = e.target ?? '';
        if (!linkStaysInside(parts, target)) throw unsafe(`symlink ${JSON.stringify(e.name)} points outside the directory: ${JSON.stringify(target)}`);
        await host.symlink(target, path);
        targets.set(rel, target);
        break;
      }
      default:
        e.kind satisfies never;
    }
    kinds.set(rel, e.kind);
    written.push([path, e.kind]);
  };

  if (format === 'zip') await zipEntries(data, budget, onEntry, opts.signal);
  else await tarEntries(data, budget, onEntry, opts.signal);

  // links are judged against the whole tree, so the order of the entries does not matter
  linksStayInside(kinds, targets);
  if (opts.uid !== undefined || opts.gid !== undefined) {
    const owner = { ...(opts.uid !== undefined ? { uid: opts.uid } : {}), ...(opts.gid !== undefined ? { gid: opts.gid } : {}) };
    for (const [p, kind] of written) await host.setAttributes(p, owner, kind);
  }
  // deepest first, so a read-only directory does not block setting the modes below it
  for (const [p, m] of dirModes.sort((a, b) => b[0].length - a[0].length)) await host.setAttributes(p, { mode: m }, 'directory');
  return { entries: budget.entries, bytes: budget.bytes, neutralised };
}
