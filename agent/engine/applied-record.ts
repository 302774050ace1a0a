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
 * Cost of a no-op run: the file is read every run, but parsed only when its bytes differ from
 * the last ones this process read or wrote for the same state directory (a byte comparison
 * instead of a JSON.parse of one entry per resource); unchanged resources are only counted,
 * and the file is not rewritten when nothing changed.
 */
import { createHash } from 'node:crypto';
import type { Host } from '../host/host.js';

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

/** The last record bytes read or written per state root, with their parsed entries (never mutated). */
const parsed = new Map<string, Parsed>();
interface Parsed {
  readonly bytes: Buffer;
  readonly prev: ReadonlyMap<string, Entry>;
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
  private readonly changed = new Map<string, Entry>();
  /** Ids whose previous entry carries over unchanged (each resource id appears once per run). */
  private readonly kept: string[] = [];
  /** With bind(): the plan's ids, which of them match their record, and which were kept by index. */
  private bound: { ids: readonly string[]; same: Uint8Array; kept: Uint8Array; count: number } | undefined;

  private constructor(
    private readonly state: Host,
    private readonly prev: ReadonlyMap<string, Entry>,
    private readonly cache: Parsed | undefined,
  ) {}

  /**
   * Binds the record to a catalog plan (resource ids and desired digests, by index) so that
   * convergedAt can keep an unchanged entry without a lookup by id; the comparison of the whole
   * record against the plan is made once per record content and plan.
   */
  bind(ids: readonly string[], digests: readonly string[]): void {
    let same = this.cache?.same.get(digests);
    if (!same) {
      same = new Uint8Array(ids.length);
      for (let i = 0; i < ids.length; i++) if (this.prev.get(ids[i]!)?.desired === digests[i]) same[i] = 1;
      this.cache?.same.set(digests, same);
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
    let prev: ReadonlyMap<string, Entry> = new Map<string, Entry>();
    try {
      if (await state.lstat(FILE)) {
        const bytes = await state.readFile(FILE);
        let hit = parsed.get(state.root);
        if (!hit || !hit.bytes.equals(bytes)) {
          parsed.delete(state.root);
          hit = { bytes, prev: parse(bytes), same: new WeakMap() };
          parsed.set(state.root, hit);
        }
        return new AppliedRecord(state, hit.prev, hit);
      }
    } catch (err) {
      onProblem(`cannot read the record of applied values; all changes count as intentional: ${(err as Error).message}`);
    }
    return new AppliedRecord(state, prev, undefined);
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

  /** Writes the record atomically (skipped when nothing changed); entries of resources no longer in the catalog are dropped. */
  async save(): Promise<void> {
    // Every kept id is in prev and ids are unique in a run: all of prev kept and nothing new means unchanged.
    const b = this.bound;
    if (this.changed.size === 0 && this.kept.length + (b?.count ?? 0) === this.prev.size) return;
    const next = new Map<string, Entry>(this.changed);
    for (const id of this.kept) if (!next.has(id)) next.set(id, this.prev.get(id)!);
    if (b) for (let i = 0; i < b.ids.length; i++) if (b.kept[i] === 1 && !next.has(b.ids[i]!)) next.set(b.ids[i]!, this.prev.get(b.ids[i]!)!);
    const resources: Record<string, Entry> = {};
    for (const [id, e] of [...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) resources[id] = e;
    const bytes = Buffer.from(`${JSON.stringify({ version: VERSION, resources })}\n`);
    await this.state.writeFileAtomic(FILE, bytes, { mode: 0o600 });
    parsed.set(this.state.root, { bytes, prev: next, same: new WeakMap() });
  }
}
