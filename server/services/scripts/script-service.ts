/**
 * The script library (issue 9, ADR 0014): shell and python scripts with immutable versions,
 * tags, declared parameters, search, clone and diff. Two collections: `scripts` (one small
 * document per script: name, description, tags, kind, the newest version number) and
 * `script_versions` (one document per version, `<id>@<n>`, with the source and parameters).
 *
 * Base scripts (kind `base`) ship in ./base/ and are seeded at every start (seedBase): created
 * when missing, given a new version when their file changed. Operators read and clone them but
 * cannot change or delete them (FORBIDDEN); user scripts are theirs.
 *
 * Concurrency: the version documents are the truth. A save inserts `<id>@<latest+1>`; of two
 * concurrent saves one insert wins and the other retries against the new latest (and is a
 * no-op when it saved the same thing). `scripts.latest` only moves forward.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTwoFilesPatch } from 'diff';
import { isoAt, type Clock } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import { actorName, byFields, type ActorLike, type AuditLog } from '../audit-log.js';
import type { Logger } from '../../log.js';
import { isDuplicateKey, type Collection, type DocumentStore } from '../../store/types.js';
import { assertScriptId, checkParams, checkSource, checkTags, sameParams, sha256Of, slugOf, type ScriptKind, type ScriptLang, type ScriptParamDecl } from './script-model.js';

export type { ScriptKind, ScriptLang, ScriptParamDecl } from './script-model.js';

/** Most scripts in the library (base included); a create beyond it is refused (CONFLICT). */
export const MAX_SCRIPTS = 5000;
/** Most versions of one script; a save beyond it is refused (CONFLICT): clone it instead. */
export const MAX_VERSIONS = 1000;
/** How long a diff may compute before it is given up (it runs in slices, off the event loop's critical path). */
export const DIFF_TIMEOUT_MS = 2000;
/** A script document left without its first version (a crash inside create) is reclaimable after this. */
const abandonedCreateMs = 60_000;

/** The folder of base scripts shipped with the server (manifest.json and the files it names). */
export const baseScriptsDir = fileURLToPath(new URL('./base/', import.meta.url));

type ScriptDoc = {
  _id: string;
  name: string;
  description: string;
  lang: ScriptLang;
  kind: ScriptKind;
  tags: string[];
  /** The newest version; 0 while create has not stored version 1. */
  latest: number;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  clonedFrom?: { id: string; version: number };
};

type VersionDoc = {
  _id: string;
  script: string;
  version: number;
  source: string;
  params: ScriptParamDecl[];
  sha256: string;
  author: string;
  createdAt: number;
  message?: string;
};

/** A script without its source (a list entry). */
export interface ScriptRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly lang: ScriptLang;
  readonly kind: ScriptKind;
  readonly tags: readonly string[];
  readonly latest: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly clonedFrom?: { readonly id: string; readonly version: number };
}

/** One version's metadata. */
export interface VersionInfo {
  readonly version: number;
  readonly author: string;
  readonly createdAt: number;
  readonly message?: string;
  readonly sha256: string;
}

/** One version of a script with its source. */
export interface ScriptVersion extends VersionInfo {
  readonly source: string;
  readonly params: readonly ScriptParamDecl[];
}

/** A script, one of its versions, and the list of all its versions (newest first). */
export interface ScriptDetail {
  readonly script: ScriptRecord;
  readonly version: ScriptVersion;
  readonly versions: readonly VersionInfo[];
}

/** What the job service runs: a script's version, resolved. */
export interface ResolvedScript {
  id: string;
  name: string;
  version: number;
  lang: 'shell' | 'python';
  source: string;
  params: { name: string; description?: string; required?: boolean; default?: string }[];
}

export interface CreateScriptInput {
  readonly name: string;
  readonly lang: ScriptLang;
  readonly source: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly params?: readonly ScriptParamDecl[];
  readonly message?: string;
}

export interface AddVersionInput {
  readonly source: string;
  /** Absent: the latest version's parameters. */
  readonly params?: readonly ScriptParamDecl[];
  readonly message?: string;
  /** Not versioned: replaces the script's description either way. */
  readonly description?: string;
  /** Not versioned: replaces the script's tags either way. */
  readonly tags?: readonly string[];
}

export interface ListQuery {
  /** Words that must all occur (case-insensitive) in the id, name, description or tags. */
  readonly q?: string;
  readonly tag?: string;
  readonly kind?: ScriptKind;
  readonly limit?: number;
  readonly offset?: number;
}

/** One entry of base/manifest.json. */
interface BaseEntry {
  name: string;
  file: string;
  lang: ScriptLang;
  description?: string;
  tags?: string[];
  params?: ScriptParamDecl[];
}

function record(d: ScriptDoc): ScriptRecord {
  return { id: d._id, name: d.name, description: d.description, lang: d.lang, kind: d.kind, tags: d.tags, latest: d.latest, createdAt: d.createdAt, updatedAt: d.updatedAt, ...(d.clonedFrom ? { clonedFrom: d.clonedFrom } : {}) };
}

function info(v: Pick<VersionDoc, 'version' | 'author' | 'createdAt' | 'message' | 'sha256'>): VersionInfo {
  return { version: v.version, author: v.author, createdAt: v.createdAt, ...(v.message !== undefined ? { message: v.message } : {}), sha256: v.sha256 };
}

function describe(text: string | undefined): string {
  const d = text ?? '';
  if (d.length > 2000) throw new ApiError('BAD_REQUEST', 'a script description has at most 2000 characters');
  return d;
}

export class ScriptService {
  private constructor(
    private readonly scripts: Collection<ScriptDoc>,
    private readonly versions: Collection<VersionDoc>,
    private readonly clock: Clock,
    private readonly log: Logger | undefined,
  ) {}

  #audit: AuditLog | undefined;

  /** Script changes are recorded in the audit log from now on (set after seeding base scripts). */
  setAuditLog(log: AuditLog): void {
    this.#audit = log;
  }

  static async open(store: DocumentStore, clock: Clock, log?: Logger): Promise<ScriptService> {
    const scripts = await store.collection<ScriptDoc>('scripts');
    const versions = await store.collection<VersionDoc>('script_versions', [{ name: 'by_script', fields: { script: 1, version: 1 }, unique: true }]);
    return new ScriptService(scripts, versions, clock, log);
  }

  /**
   * Creates a script and its version 1. CONFLICT when a script with the same id (slug of the
   * name) exists or the library is full; BAD_REQUEST / PAYLOAD_TOO_LARGE for bad input.
   */
  async create(input: CreateScriptInput, by: ActorLike, opts: { kind?: ScriptKind; clonedFrom?: { id: string; version: number } } = {}): Promise<ScriptDetail> {
    const author = actorName(by);
    const id = slugOf(input.name);
    checkSource(input.source);
    const params = checkParams(input.params ?? []);
    const tags = checkTags(input.tags ?? []);
    const description = describe(input.description);
    if ((await this.scripts.count({})) >= MAX_SCRIPTS) throw new ApiError('CONFLICT', `the library holds ${MAX_SCRIPTS} scripts, its limit: delete some first`);
    const now = this.clock.now();
    const doc: ScriptDoc = { _id: id, name: input.name, description, lang: input.lang, kind: opts.kind ?? 'user', tags, latest: 0, createdAt: now, updatedAt: now, createdBy: author, ...(opts.clonedFrom ? { clonedFrom: opts.clonedFrom } : {}) };
    await this.claim(doc);
    // Versions left by an earlier script of this id (deleted while a save was in flight) go first.
    await this.versions.deleteMany({ script: id });
    const v: VersionDoc = { _id: `${id}@1`, script: id, version: 1, source: input.source, params, sha256: sha256Of(input.source), author, createdAt: now, ...(input.message ? { message: input.message } : {}) };
    await this.versions.insertOne(v);
    await this.scripts.updateOne({ _id: id, latest: 0 }, { $set: { latest: 1 } });
    await this.#audit?.record({ ...byFields(by), action: 'script.create', target: `script:${id}`, after: { name: input.name, lang: input.lang, version: 1, sha256: v.sha256, tags }, ...(opts.clonedFrom ? { details: { clonedFrom: opts.clonedFrom } } : {}) });
    return { script: record({ ...doc, latest: 1 }), version: { ...info(v), source: v.source, params: v.params }, versions: [info(v)] };
  }

  /** Inserts the script document, reclaiming one a crashed create left without versions. */
  private async claim(doc: ScriptDoc): Promise<void> {
    try {
      await this.scripts.insertOne(doc);
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const existing = await this.scripts.findOne({ _id: doc._id });
    if (existing && existing.latest === 0 && this.clock.now() - existing.createdAt > abandonedCreateMs && (await this.scripts.deleteOne({ _id: doc._id, latest: 0, createdAt: existing.createdAt })) === 1) {
      await this.claim(doc);
      return;
    }
    throw new ApiError('CONFLICT', `a script with the id ${doc._id} exists (ids are the slug of the name): choose another name`);
  }

  private async doc(id: string): Promise<ScriptDoc> {
    assertScriptId(id);
    const d = await this.scripts.findOne({ _id: id });
    if (!d || d.latest === 0) throw new ApiError('NOT_FOUND', `no script ${id}`);
    return d;
  }

  private async latestVersion(id: string): Promise<VersionDoc | null> {
    return this.versions.findOne({ script: id }, { sort: { version: -1 } });
  }

  /**
   * Saves a new version when the source or the parameters differ from the latest (`created`
   * false otherwise); description and tags, when given, replace the script's either way.
   * FORBIDDEN for a base script (unless `asSeed`); NOT_FOUND; CONFLICT beyond MAX_VERSIONS.
   */
  async addVersion(id: string, input: AddVersionInput, by: ActorLike, opts: { asSeed?: boolean } = {}): Promise<ScriptDetail & { created: boolean }> {
    const author = actorName(by);
    const d = await this.doc(id);
    if (d.kind === 'base' && !opts.asSeed) throw new ApiError('FORBIDDEN', `${id} is a base script (read-only): clone it to change it`);
    checkSource(input.source);
    const meta: Record<string, unknown> = {};
    if (input.description !== undefined) meta['description'] = describe(input.description);
    if (input.tags !== undefined) meta['tags'] = checkTags(input.tags);
    const sha = sha256Of(input.source);
    for (let attempt = 0; attempt < 5; attempt++) {
      const latest = await this.latestVersion(id);
      const params = checkParams(input.params ?? latest?.params ?? []);
      const now = this.clock.now();
      if (latest && latest.sha256 === sha && sameParams(latest.params, params)) {
        if (Object.keys(meta).length > 0) await this.scripts.updateOne({ _id: id }, { $set: { ...meta, updatedAt: now } });
        await this.#audit?.record({ ...byFields(by), action: 'script.update', target: `script:${id}`, before: { description: d.description, tags: d.tags }, after: { description: meta['description'] ?? d.description, tags: meta['tags'] ?? d.tags }, details: { version: latest.version, created: false } });
        return { ...(await this.get(id)), created: false };
      }
      const next = (latest?.version ?? 0) + 1;
      if (next > MAX_VERSIONS) throw new ApiError('CONFLICT', `${id} has ${MAX_VERSIONS} versions, the limit: clone it to go on`);
      try {
        await this.versions.insertOne({ _id: `${id}@${next}`, script: id, version: next, source: input.source, params, sha256: sha, author, createdAt: now, ...(input.message ? { message: input.message } : {}) });
      } catch (err) {
        if (isDuplicateKey(err)) continue; // another save took this number: compare with it
        throw err;
      }
      await this.scripts.updateOne({ _id: id, latest: { $lt: next } }, { $set: { latest: next, updatedAt: now } });
      if (Object.keys(meta).length > 0) await this.scripts.updateOne({ _id: id }, { $set: meta });
      await this.#audit?.record({ ...byFields(by), action: 'script.version', target: `script:${id}`, before: latest ? { version: latest.version, sha256: latest.sha256 } : null, after: { version: next, sha256: sha }, ...(input.message ? { details: { message: input.message } } : {}) });
      return { ...(await this.get(id, next)), created: true };
    }
    throw new ApiError('CONFLICT', `${id} is being saved by others right now; try again`);
  }

  /** A script with one version (the latest by default) and its version list. NOT_FOUND. */
  async get(id: string, version?: number): Promise<ScriptDetail> {
    const d = await this.doc(id);
    const v = version === undefined ? await this.latestVersion(id) : await this.versions.findOne({ _id: `${id}@${version}` });
    if (!v) throw new ApiError('NOT_FOUND', version === undefined ? `no script ${id}` : `script ${id} has no version ${version}`);
    const all = await this.versions.find({ script: id }, { sort: { version: -1 }, projection: { version: 1, author: 1, createdAt: 1, message: 1, sha256: 1 } });
    const latest = Math.max(d.latest, all[0]?.version ?? 0);
    return { script: record({ ...d, latest }), version: { ...info(v), source: v.source, params: v.params }, versions: all.map(info) };
  }

  /**
   * The version a job runs: the latest or `version`. The contract of the job service
   * (ADR 0014): throws ApiError NOT_FOUND for an unknown script or version.
   */
  async resolve(id: string, version?: number): Promise<ResolvedScript> {
    if (!/^[a-z0-9-]{1,64}$/.test(id)) throw new ApiError('NOT_FOUND', `no script ${JSON.stringify(id.slice(0, 64))}`);
    const { script, version: v } = await this.get(id, version);
    return { id: script.id, name: script.name, version: v.version, lang: script.lang, source: v.source, params: v.params.map((p) => ({ ...p })) };
  }

  /**
   * A page of scripts matching the query, base scripts first, then by name; `total` counts
   * every match. Search is in memory over at most MAX_SCRIPTS small documents (no regex
   * reaches the store).
   */
  async list(query: ListQuery = {}): Promise<{ scripts: ScriptRecord[]; total: number }> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const offset = Math.max(query.offset ?? 0, 0);
    const words = (query.q ?? '').toLowerCase().slice(0, 200).split(/\s+/).filter((w) => w !== '').slice(0, 10);
    const all = await this.scripts.find(query.kind ? { kind: query.kind } : {}, { limit: MAX_SCRIPTS * 2 });
    const hits = all
      .filter((d) => d.latest > 0)
      .filter((d) => query.tag === undefined || d.tags.includes(query.tag))
      .filter((d) => {
        if (words.length === 0) return true;
        const hay = `${d._id}\n${d.name}\n${d.description}\n${d.tags.join('\n')}`.toLowerCase();
        return words.every((w) => hay.includes(w));
      })
      .sort((a, b) => (a.kind !== b.kind ? (a.kind === 'base' ? -1 : 1) : a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : a._id < b._id ? -1 : 1));
    return { scripts: hits.slice(offset, offset + limit).map(record), total: hits.length };
  }

  /** Every tag in use with its count, by tag (for the console's filter). */
  async tags(): Promise<{ tag: string; count: number }[]> {
    const counts = new Map<string, number>();
    for (const d of await this.scripts.find({ latest: { $gt: 0 } }, { projection: { tags: 1 }, limit: MAX_SCRIPTS * 2 })) for (const t of d.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
    return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([tag, count]) => ({ tag, count }));
  }

  /** A new user script whose version 1 is `version` (default the latest) of `id`. */
  async clone(id: string, input: { name: string; version?: number; description?: string; tags?: readonly string[] }, author: ActorLike): Promise<ScriptDetail> {
    const src = await this.get(id, input.version);
    return this.create(
      { name: input.name, lang: src.script.lang, source: src.version.source, params: src.version.params, description: input.description ?? src.script.description, tags: input.tags ?? src.script.tags, message: `cloned from ${id} version ${src.version.version}` },
      author,
      { clonedFrom: { id, version: src.version.version } },
    );
  }

  /**
   * The unified diff of the sources of two versions (from → to) and whether their declared
   * parameters differ. NOT_FOUND for a missing version; BAD_REQUEST when the diff cannot be
   * computed within DIFF_TIMEOUT_MS.
   */
  async diff(id: string, from: number, to: number): Promise<{ diff: string; paramsChanged: boolean }> {
    const [a, b] = await Promise.all([this.get(id, from), this.get(id, to)]);
    const paramsChanged = !sameParams(a.version.params, b.version.params);
    if (a.version.sha256 === b.version.sha256) return { diff: '', paramsChanged };
    const diff = await new Promise<string | undefined>((resolve) => {
      createTwoFilesPatch(`${id}@${from}`, `${id}@${to}`, a.version.source, b.version.source, isoAt(a.version.createdAt), isoAt(b.version.createdAt), { context: 3, timeout: DIFF_TIMEOUT_MS, callback: resolve });
    });
    if (diff === undefined) throw new ApiError('BAD_REQUEST', `versions ${from} and ${to} of ${id} differ too much to diff within ${DIFF_TIMEOUT_MS} ms; read them whole with ?version=`);
    return { diff, paramsChanged };
  }

  /** Deletes a user script and all its versions. FORBIDDEN for a base script; NOT_FOUND. */
  async delete(id: string, by?: ActorLike): Promise<void> {
    const d = await this.doc(id);
    if (d.kind === 'base') throw new ApiError('FORBIDDEN', `${id} is a base script: base scripts cannot be deleted`);
    if ((await this.scripts.deleteOne({ _id: id, kind: 'user' })) === 0) throw new ApiError('NOT_FOUND', `no script ${id}`);
    await this.versions.deleteMany({ script: id });
    await this.#audit?.record({ ...byFields(by), action: 'script.delete', target: `script:${id}`, before: { name: d.name, lang: d.lang, latest: d.latest } });
  }

  /**
   * Seeds the base scripts from `dir` (manifest.json and its files): each is created when
   * missing or given a new version when its file or parameters changed (idempotent: a restart
   * with the same files changes nothing). A user script holding a base script's id is left
   * alone and logged. Throws for a manifest that is not well-formed (a packaging error).
   */
  async seedBase(dir: string = baseScriptsDir): Promise<{ created: string[]; updated: string[]; skipped: string[] }> {
    const manifest = JSON.parse(await fsp.readFile(join(dir, 'manifest.json'), 'utf8')) as { scripts?: BaseEntry[] };
    const out = { created: [] as string[], updated: [] as string[], skipped: [] as string[] };
    for (const e of manifest.scripts ?? []) {
      if (typeof e.file !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(e.file)) throw new Error(`base script manifest: bad file name ${JSON.stringify(e.file)}`);
      if (e.lang !== 'shell' && e.lang !== 'python') throw new Error(`base script manifest: ${e.file}: lang must be shell or python`);
      const source = await fsp.readFile(join(dir, e.file), 'utf8');
      const id = slugOf(e.name);
      const existing = await this.scripts.findOne({ _id: id });
      const fields = { source, params: e.params ?? [], description: e.description ?? '', tags: e.tags ?? [] };
      if (!existing) {
        try {
          await this.create({ name: e.name, lang: e.lang, ...fields, message: 'shipped with the server' }, 'stead', { kind: 'base' });
          out.created.push(id);
        } catch (err) {
          // Another server seeding at the same moment created it: take the update path next start.
          if (!(err instanceof ApiError && err.code === 'CONFLICT')) throw err;
          out.skipped.push(id);
        }
      } else if (existing.kind !== 'base') {
        this.log?.warn('a user script holds the id of a base script; the base script is not seeded', { script: id });
        out.skipped.push(id);
      } else {
        const r = await this.addVersion(id, { ...fields, message: 'updated with the server' }, 'stead', { asSeed: true });
        if (r.created) out.updated.push(id);
      }
    }
    return out;
  }
}
