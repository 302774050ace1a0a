/**
 * The local record of what the engine last applied, for telling drift (a corrective change)
 * from a new desired state (an intentional change), after Puppet's corrective_change.
 *
 * Stored as stateDir/applied.json, written atomically once per apply run (never in noop).
 * Values are kept as sha256 digests, so no secret is stored at rest.
 *
 * A change of property P of resource R is corrective when
 * - a value of P was recorded for R and differs from `before` (Puppet's rule), or
 * - no value of P was recorded, but R ended its last run converged with the same desired state
 *   (then the host moved, not the desired state).
 *
 * Cost of a no-op run: the file is read every run, but parsed only when a change needs its
 * entries (a corrective check, a skipped or failed resource, a save): the process keeps, per
 * state directory, only the sha256 of the bytes it last read or wrote, their entry count, and
 * which resources of a plan match their entry (one byte each); unchanged resources are only
 * counted, and the file is not rewritten when nothing changed. The parsed entries (~400 bytes
 * per resource) live only as long as the run that needed them.
 */
import { createHash, hash } from 'node:crypto';
import type { Host } from '../host/host.js';
import { hostSyncReads } from './read-now.js';

const FILE = '/applied.json';
const VERSION = 1;

interface Entry {
  /** Digest of the desired resource (without metaparameters) when it last converged. */
  desired: string;
  /** Digest of the last applied value, by property. */
  values: Record<string, string>;
}

/** Digest of any JSON value, with object keys sorted. */
export function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/** JSON with sorted object keys; undefined becomes the string "~undefined". */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '"~undefined"';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** What this process knows of the record it last read or wrote, per state root (see the module comment). */
const known = new Map<string, Known>();
interface Known {
  /** sha256 of the record's bytes. */
  readonly sum: string;
  /** Number of entries. */
  readonly size: number;
  /** By a plan's digests array: same[i] = 1 when resource i last converged with digests[i]. */
  readonly same: WeakMap<readonly string[], Uint8Array>;
}

function parse(bytes: Buffer): Map<string, Entry> {
  const prev = new Map<string, Entry>();
  const doc = JSON.parse(bytes.toString('utf8')) as { version?: number; resources?: Record<string, Entry> };
  if (doc.version === VERSION && doc.resources && typeof doc.resources === 'object') {
    for (const [id, e] of Object.entries(doc.resources)) {
      if (e && typeof e.desired === 'string' && e.values && typeof e.values === 'object') prev.set(id, { desired: e.desired, values: { ...e.values } });
    }
  }
  return prev;
}

export class AppliedRecord {
  /** Entries that are new or changed in this run. */
  private changed = new Map<string, Entry>();
  /** Ids whose previous entry carries over unchanged (each resource id appears once per run). */
  private kept: string[] = [];
  /** With bind(): the plan's ids, which of them match their record, and which were kept by index. */
  private bound: { ids: readonly string[]; same: Uint8Array; kept: Uint8Array; count: number } | undefined;
  /** The parsed entries, made on first need from `source`. */
  private entries: ReadonlyMap<string, Entry> | undefined;

  private constructor(
    private readonly state: Host,
    /** Gives the record's bytes when the entries are needed (undefined: there is no record). */
    private source: (() => Buffer) | undefined,
    private readonly info: Known | undefined,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** The previous entries (parsed on first use; an empty map when there was no readable record). */
  private get prev(): ReadonlyMap<string, Entry> {
    if (!this.entries) {
      let entries = new Map<string, Entry>();
      try {
        if (this.source) entries = parse(this.source());
      } catch (err) {
        this.onProblem(`cannot read the record of applied values; all changes count as intentional: ${(err as Error).message}`);
      }
      this.entries = entries;
      this.source = undefined;
    }
    return this.entries;
  }

  /** Number of previous entries, without parsing them when the record is known. */
  private get prevSize(): number {
    return this.entries ? this.entries.size : this.info ? this.info.size : this.prev.size;
  }

  /**
   * Binds the record to a catalog plan (resource ids and desired digests, by index) so that
   * convergedAt can keep an unchanged entry without a lookup by id; the comparison of the whole
   * record against the plan is made once per record content and plan.
   */
  bind(ids: readonly string[], digests: readonly string[]): void {
    let same = this.info?.same.get(digests);
    if (!same) {
      same = new Uint8Array(ids.length);
      const prev = this.prev;
      for (let i = 0; i < ids.length; i++) if (prev.get(ids[i]!)?.desired === digests[i]) same[i] = 1;
      this.info?.same.set(digests, same);
    }
    this.bound = { ids, same, kept: new Uint8Array(ids.length), count: 0 };
  }

  /** converged() for resource `i` of the bound plan (see bind). */
  convergedAt(i: number, desiredDigest: string, applied: readonly { property: string; after?: unknown }[]): void {
    const b = this.bound;
    if (b && applied.length === 0 && b.same[i] === 1 && b.kept[i] === 0) {
      b.kept[i] = 1;
      b.count++;
      return;
    }
    this.converged(b ? b.ids[i]! : '', desiredDigest, applied);
  }

  /** Loads the record; a missing or unreadable file is an empty record (reported through onProblem). */
  static async load(state: Host, onProblem: (message: string) => void): Promise<AppliedRecord> {
    try {
      if (await state.lstat(FILE)) {
        // A host with synchronous reads (the NodeHost) hashes the record through its reusable
        // buffer and reads it again only if a change needs the entries: a no-op poll then holds
        // no copy of it (a copy held for a whole run outlives a scavenge and stays until the
        // next full collection, 1.3 MB per poll at 10,000 resources).
        const sync = hostSyncReads(state);
        let bytes = sync ? undefined : await state.readFile(FILE);
        const sum = sync ? sync.sha256Now(FILE) : hash('sha256', bytes!, 'hex');
        let info = known.get(state.root);
        if (info?.sum !== sum) {
          bytes ??= await state.readFile(FILE);
          const entries = parse(bytes);
          info = { sum, size: entries.size, same: new WeakMap() };
          known.set(state.root, info);
          const record = new AppliedRecord(state, undefined, info, onProblem);
          record.entries = entries;
          return record;
        }
        const held = bytes;
        return new AppliedRecord(state, held ? () => held : () => sync!.readFileNow(FILE), info, onProblem);
      }
    } catch (err) {
      onProblem(`cannot read the record of applied values; all changes count as intentional: ${(err as Error).message}`);
    }
    return new AppliedRecord(state, undefined, undefined, onProblem);
  }

  /** Whether a change of `property` from `before` is drift (see the module comment). */
  isCorrective(id: string, desiredDigest: string, property: string, before: unknown): boolean {
    const e = this.prev.get(id);
    if (!e) return false;
    const v = e.values[property];
    if (v !== undefined) return v !== digest(before);
    return e.desired === desiredDigest;
  }

  /** Records that resource `id` ended this run converged, with the values it applied. */
  converged(id: string, desiredDigest: string, applied: readonly { property: string; after?: unknown }[]): void {
    const prev = this.prev.get(id);
    if (prev && prev.desired === desiredDigest && applied.length === 0) {
      this.kept.push(id);
      return;
    }
    const values = { ...(prev?.values ?? {}) };
    for (const c of applied) values[c.property] = digest(c.after);
    this.changed.set(id, { desired: desiredDigest, values });
  }

  /** Keeps the previous entry of a resource that did not converge this run (failed, skipped). */
  keep(id: string): void {
    if (this.prev.has(id)) this.kept.push(id);
  }

  /** Forgets this run's entries (the run is over: the engine keeps its last objects, not their data). */
  release(): void {
    this.entries = new Map<string, Entry>();
    this.source = undefined;
    this.changed = new Map<string, Entry>();
    this.kept = [];
    this.bound = undefined;
  }

  /** Writes the record atomically (skipped when nothing changed); entries of resources no longer in the catalog are dropped. */
  async save(): Promise<void> {
    // Every kept id is in prev and ids are unique in a run: all of prev kept and nothing new means unchanged.
    const b = this.bound;
    if (this.changed.size === 0 && this.kept.length + (b?.count ?? 0) === this.prevSize) return;
    const next = new Map<string, Entry>(this.changed);
    for (const id of this.kept) if (!next.has(id)) next.set(id, this.prev.get(id)!);
    if (b) for (let i = 0; i < b.ids.length; i++) if (b.kept[i] === 1 && !next.has(b.ids[i]!)) next.set(b.ids[i]!, this.prev.get(b.ids[i]!)!);
    const resources: Record<string, Entry> = {};
    for (const [id, e] of [...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) resources[id] = e;
    const bytes = Buffer.from(`${JSON.stringify({ version: VERSION, resources })}\n`);
    await this.state.writeFileAtomic(FILE, bytes, { mode: 0o600 });
    known.set(this.state.root, { sum: hash('sha256', bytes, 'hex'), size: next.size, same: new WeakMap() });
  }
}
