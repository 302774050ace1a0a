/**
 * Editing the manifest repository from the console (issue 12): a **draft** is a set of file
 * changes (write or delete) on top of a base — the live revision and the head commit of the
 * manifest history when it was started — owned by one operator and kept in the store
 * (`manifest_drafts`), so it survives a restart and is the same on every server.
 *
 * Everything reuses what publishing uses: the quick check as you type is the compiler's own
 * loader and template parser (CompilerPort.check, in the compile worker); a preview renders a
 * template for a host in the compile worker as a job's files step does (compileResources, with
 * the host's variables and last facts; a result that depends on a secret is withheld); the plan is
 * FleetPlanService.planUpload; a commit is GitService.publish (the same history, author handling,
 * validation and audit as an API upload), refused with 409 when main moved since the draft
 * began; publishing starts a rollout through RolloutService or makes the commit live at once.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { RolloutPolicy } from '../../../schemas/api/rollouts.js';
import type { Resource } from '../../../schemas/resource.js';
import type { Clock } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import type { Collection, DocumentStore } from '../../store/types.js';
import type { AuditLog } from '../audit-log.js';
import type { CompilerPort, LocatedProblem } from '../compiler-port.js';
import type { FleetPlanService } from '../fleet-plan/fleet-plan-service.js';
import type { GitService } from '../git/git-service.js';
import type { HostStateService } from '../host-state-service.js';
import { checkFiles, isSafeRepoPath, writeCheckout } from '../repository-files.js';
import type { RevisionService } from '../revision-service.js';
import type { RolloutService } from '../rollouts/rollout-service.js';

/** Largest file the editor writes (text). */
export const maxDraftFileBytes = 1024 * 1024;
/** Most files one draft changes. */
export const maxDraftChanges = 200;
/** Most open drafts per operator. */
const maxDraftsPerOwner = 20;
/** Largest preview shown. */
const maxPreviewBytes = 256 * 1024;

export type DraftState = 'open' | 'committed' | 'published';

export interface DraftChange {
  readonly path: string;
  /** The new content (UTF-8); absent when the file is deleted. */
  readonly content?: string;
  readonly deleted?: boolean;
}

type DraftDoc = {
  _id: string;
  owner: string;
  /** The live revision the draft started from (null: nothing was live). */
  base: string | null;
  /** The head commit of the manifest history then (null: no history; absent: the server has no git). */
  baseCommit?: string | null;
  createdAt: number;
  updatedAt: number;
  version: number;
  state: DraftState;
  changes: DraftChange[];
  message?: string;
  revision?: string;
  commit?: string;
  rollout?: string;
};

/** A draft as the API shows it. */
export interface Draft {
  readonly id: string;
  readonly owner: string;
  readonly base: string | null;
  readonly baseCommit?: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly state: DraftState;
  readonly changes: readonly { path: string; action: 'write' | 'delete'; size?: number }[];
  readonly message?: string;
  readonly revision?: string;
  readonly commit?: string;
  readonly rollout?: string;
}

/** One file of the tree. */
export interface TreeEntry {
  readonly path: string;
  readonly size: number;
  /** What the draft does to it (absent: as in the base). */
  readonly draft?: 'write' | 'delete' | 'new';
  readonly kind: FileKind;
}

export type FileKind = 'config' | 'inventory' | 'group' | 'role' | 'vars' | 'template' | 'file' | 'other';

/** The result of the quick check of one file. */
export interface FileCheck {
  readonly path: string;
  readonly ok: boolean;
  /** Problems located in this file. */
  readonly problems: readonly LocatedProblem[];
  /** Problems the change causes elsewhere (the first few). */
  readonly elsewhere: readonly LocatedProblem[];
}

export interface Preview {
  readonly template: string;
  readonly host: string;
  readonly ok: boolean;
  /** The rendered text; absent when it depends on a secret, failed, or is not text. */
  readonly content?: string;
  readonly sensitive?: boolean;
  readonly truncated?: boolean;
  readonly size?: number;
  readonly problems: readonly LocatedProblem[];
}

export interface DraftActor {
  readonly name: string;
  readonly address?: string;
}

/** How to publish a commit: at once to every host, or in batches. */
export type PublishMode = { readonly rollout: RolloutPolicy } | { readonly now: true };

export function kindOf(path: string): FileKind {
  if (path === 'stead.yaml') return 'config';
  if (path.startsWith('inventory/')) return 'inventory';
  if (path.startsWith('groups/')) return 'group';
  if (path.startsWith('roles/')) return 'role';
  if (path.startsWith('vars/')) return 'vars';
  if (path.startsWith('templates/')) return 'template';
  if (path.startsWith('files/')) return 'file';
  return 'other';
}

function view(d: DraftDoc): Draft {
  return {
    id: d._id,
    owner: d.owner,
    base: d.base,
    ...(d.baseCommit !== undefined ? { baseCommit: d.baseCommit } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    state: d.state,
    changes: d.changes.map((c) => (c.deleted ? { path: c.path, action: 'delete' as const } : { path: c.path, action: 'write' as const, size: Buffer.byteLength(c.content ?? '') })),
    ...(d.message !== undefined ? { message: d.message } : {}),
    ...(d.revision !== undefined ? { revision: d.revision } : {}),
    ...(d.commit !== undefined ? { commit: d.commit } : {}),
    ...(d.rollout !== undefined ? { rollout: d.rollout } : {}),
  };
}

export function checkEditablePath(path: string): void {
  if (!isSafeRepoPath(path) || path.split('/').some((s) => s.startsWith('.'))) {
    throw new ApiError('BAD_REQUEST', `${JSON.stringify(path.slice(0, 200))} is not a repository path (relative, "/"-separated, no ".", ".." or dot-files)`);
  }
}

function decodeText(path: string, data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `${path} is not UTF-8 text: the editor edits text files only (publish binary files with stead publish or git push)`);
  }
}

function textBytes(path: string, content: string): Buffer {
  const b = Buffer.from(content, 'utf8');
  if (b.length > maxDraftFileBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `${path} is larger than ${maxDraftFileBytes} bytes; the editor edits smaller files`);
  return b;
}

export class ManifestDrafts {
  readonly #scratch: string;

  private constructor(
    private readonly drafts: Collection<DraftDoc>,
    dataDir: string,
    private readonly deps: { revisions: RevisionService; compiler: CompilerPort; fleetPlans: FleetPlanService; rollouts: RolloutService; hostStates: HostStateService; git: GitService | undefined; auditLog: AuditLog; clock: Clock },
  ) {
    this.#scratch = join(dataDir, 'draft-checks');
  }

  static async open(store: DocumentStore, dataDir: string, deps: ManifestDrafts['deps']): Promise<ManifestDrafts> {
    const svc = new ManifestDrafts(await store.collection<DraftDoc>('manifest_drafts', [{ name: 'by_owner', fields: { owner: 1, updatedAt: -1 } }]), dataDir, deps);
    await fsp.rm(svc.#scratch, { recursive: true, force: true });
    await fsp.mkdir(svc.#scratch, { recursive: true, mode: 0o750 });
    return svc;
  }

  // ---- the repository as it is ----

  async #baseFiles(base: string | null): Promise<Map<string, Buffer>> {
    return base === null ? new Map() : this.deps.revisions.files(base);
  }

  /** The files of the live revision, with what `draft` does to them. */
  async tree(draftId?: string, owner?: string): Promise<{ revision: string | null; draft?: Draft; files: TreeEntry[] }> {
    const d = draftId !== undefined ? await this.#own(draftId, owner ?? '') : undefined;
    const base = d ? d.base : ((await this.deps.revisions.liveId()) ?? null);
    const rev = base === null ? undefined : await this.deps.revisions.get(base);
    const files = new Map<string, TreeEntry>((rev?.files ?? []).map((f) => [f.path, { path: f.path, size: f.size, kind: kindOf(f.path) }]));
    for (const c of d?.changes ?? []) {
      const prev = files.get(c.path);
      files.set(c.path, { path: c.path, size: c.deleted ? (prev?.size ?? 0) : Buffer.byteLength(c.content ?? ''), kind: kindOf(c.path), draft: c.deleted ? 'delete' : prev ? 'write' : 'new' });
    }
    return { revision: base, ...(d ? { draft: view(d) } : {}), files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
  }

  /** One file's text: from the draft when it changes it, else from the base (the live revision). */
  async read(path: string, draftId?: string, owner?: string): Promise<{ path: string; content: string; revision: string | null; draft?: 'write' | 'delete' }> {
    checkEditablePath(path);
    const d = draftId !== undefined ? await this.#own(draftId, owner ?? '') : undefined;
    const change = d?.changes.find((c) => c.path === path);
    const base = d ? d.base : ((await this.deps.revisions.liveId()) ?? null);
    if (change && !change.deleted) return { path, content: change.content ?? '', revision: base, draft: 'write' };
    if (change?.deleted) throw new ApiError('NOT_FOUND', `${path} is deleted in this draft`);
    const files = await this.#baseFiles(base);
    const data = files.get(path);
    if (!data) throw new ApiError('NOT_FOUND', `the repository has no file ${path}`);
    return { path, content: decodeText(path, data), revision: base };
  }

  // ---- drafts ----

  async #own(id: string, owner: string): Promise<DraftDoc> {
    if (!/^d-[0-9a-z]{6,40}$/.test(id)) throw new ApiError('NOT_FOUND', `no draft ${id.slice(0, 64)}`);
    const d = await this.drafts.findOne({ _id: id });
    // Drafts are private: another operator's draft is not found (its name is not even confirmed).
    if (!d || d.owner !== owner) throw new ApiError('NOT_FOUND', `no draft ${id} of ${owner}`);
    return d;
  }

  async get(id: string, owner: string): Promise<Draft> {
    return view(await this.#own(id, owner));
  }

  /** The owner's drafts, newest first. */
  async list(owner: string, limit = 50): Promise<Draft[]> {
    return (await this.drafts.find({ owner }, { sort: { updatedAt: -1, _id: -1 }, limit })).map(view);
  }

  /** A new empty draft on the live revision and the history's head. */
  async create(owner: string): Promise<Draft> {
    const open = await this.drafts.count({ owner, state: 'open' });
    if (open >= maxDraftsPerOwner) throw new ApiError('CONFLICT', `${owner} has ${open} open drafts: commit or discard some first`);
    const now = this.deps.clock.now();
    const base = (await this.deps.revisions.liveId()) ?? null;
    const git = this.deps.git && (await this.deps.git.available()) ? this.deps.git : undefined;
    const baseCommit = git ? ((await git.headCommit()) ?? null) : undefined;
    const doc: DraftDoc = { _id: `d-${now.toString(36)}${randomBytes(6).toString('hex')}`, owner, base, ...(baseCommit !== undefined ? { baseCommit } : {}), createdAt: now, updatedAt: now, version: 1, state: 'open', changes: [] };
    await this.drafts.insertOne(doc);
    return view(doc);
  }

  /** The owner's newest open draft, or a new one (the CLI's "current draft"). */
  async current(owner: string): Promise<Draft> {
    const [d] = await this.drafts.find({ owner, state: 'open' }, { sort: { updatedAt: -1, _id: -1 }, limit: 1 });
    return d ? view(d) : this.create(owner);
  }

  async #update(id: string, owner: string, fn: (d: DraftDoc) => DraftDoc): Promise<DraftDoc> {
    for (let i = 0; i < 5; i++) {
      const d = await this.#own(id, owner);
      const next = { ...fn(d), version: d.version + 1, updatedAt: this.deps.clock.now() };
      const r = await this.drafts.replaceOne({ _id: id, version: d.version }, next);
      if (r.matched === 1) return next;
    }
    throw new ApiError('CONFLICT', `draft ${id} changed under five attempts in a row; try again`);
  }

  #open(d: DraftDoc): void {
    if (d.state !== 'open') throw new ApiError('CONFLICT', `draft ${d._id} is ${d.state}: start a new draft to change more`);
  }

  /** Writes `content` as `path` in the draft (a new file or a change); the same content as the base drops the change. */
  async write(id: string, owner: string, path: string, content: string): Promise<Draft> {
    checkEditablePath(path);
    textBytes(path, content);
    const d0 = await this.#own(id, owner);
    const baseData = (await this.#baseFiles(d0.base)).get(path);
    const same = baseData !== undefined && baseData.equals(Buffer.from(content, 'utf8'));
    return view(
      await this.#update(id, owner, (d) => {
        this.#open(d);
        const changes = d.changes.filter((c) => c.path !== path);
        if (!same) changes.push({ path, content });
        if (changes.length > maxDraftChanges) throw new ApiError('PAYLOAD_TOO_LARGE', `a draft changes at most ${maxDraftChanges} files`);
        return { ...d, changes: changes.sort((a, b) => (a.path < b.path ? -1 : 1)) };
      }),
    );
  }

  /** Deletes `path` in the draft (or drops a new file the draft added). */
  async remove(id: string, owner: string, path: string): Promise<Draft> {
    checkEditablePath(path);
    const d0 = await this.#own(id, owner);
    const inBase = (await this.#baseFiles(d0.base)).has(path);
    return view(
      await this.#update(id, owner, (d) => {
        this.#open(d);
        const changes = d.changes.filter((c) => c.path !== path);
        if (!inBase && changes.length === d.changes.length) throw new ApiError('NOT_FOUND', `the repository has no file ${path}`);
        if (inBase) changes.push({ path, deleted: true });
        return { ...d, changes: changes.sort((a, b) => (a.path < b.path ? -1 : 1)) };
      }),
    );
  }

  /** Drops one change (the file is as in the base again). */
  async revert(id: string, owner: string, path: string): Promise<Draft> {
    return view(await this.#update(id, owner, (d) => (this.#open(d), { ...d, changes: d.changes.filter((c) => c.path !== path) })));
  }

  async discard(id: string, owner: string): Promise<void> {
    const d = await this.#own(id, owner);
    if (d.state === 'committed') throw new ApiError('CONFLICT', `draft ${id} is committed but not published: publish it (or leave it: the commit stays in the history)`);
    await this.drafts.deleteOne({ _id: d._id });
  }

  /** The whole repository of the draft: base files with its changes applied (`extra`: one more file's content on top). */
  async #files(d: DraftDoc | undefined, base: string | null, extra?: { path: string; content: string }): Promise<Map<string, Buffer>> {
    const files = await this.#baseFiles(d ? d.base : base);
    for (const c of d?.changes ?? []) {
      if (c.deleted) files.delete(c.path);
      else files.set(c.path, Buffer.from(c.content ?? '', 'utf8'));
    }
    if (extra) files.set(extra.path, textBytes(extra.path, extra.content));
    return files;
  }

  /** Runs `fn` with the files written as a scratch checkout, removed afterwards. */
  async #withCheckout<T>(files: ReadonlyMap<string, Buffer>, fn: (dir: string, key: string) => Promise<T>): Promise<T> {
    checkFiles(files);
    const key = `draft-${randomBytes(8).toString('hex')}`;
    const dir = join(this.#scratch, key);
    await writeCheckout(dir, files);
    try {
      return await fn(dir, key);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  // ---- checking, previewing, planning ----

  /**
   * The quick check of `path` with `content`, in the context of the draft (or of the live
   * revision): YAML syntax and shapes with line, column and JSON pointer, references across the
   * repository, and a template's syntax with its line — the compiler's own checks, without
   * compiling every host (the plan and the commit do that).
   */
  async check(path: string, content: string, signal: AbortSignal, draftId?: string, owner?: string): Promise<FileCheck> {
    checkEditablePath(path);
    const d = draftId !== undefined ? await this.#own(draftId, owner ?? '') : undefined;
    const files = await this.#files(d, (await this.deps.revisions.liveId()) ?? null, { path, content });
    const templates = new Set<string>();
    for (const p of [path, ...(d?.changes.filter((c) => !c.deleted).map((c) => c.path) ?? [])]) if (p.startsWith('templates/')) templates.add(p.slice('templates/'.length));
    const problems = await this.#withCheckout(files, async (dir, key) => {
      const overlay = await this.deps.revisions.inventoryOverlay(signal);
      return this.deps.compiler.check ? this.deps.compiler.check(dir, key, signal, overlay, [...templates]) : this.deps.compiler.validate(dir, key, signal, overlay);
    });
    const here = problems.filter((p) => p.file === path);
    const elsewhere = problems.filter((p) => p.file !== path && (p.severity ?? 'error') === 'error');
    return { path, ok: !here.some((p) => (p.severity ?? 'error') === 'error') && elsewhere.length === 0, problems: here.slice(0, 200), elsewhere: elsewhere.slice(0, 20) };
  }

  /**
   * `template` (a path under templates/) rendered for `host` with the host's variables and last
   * facts, from the draft (or the live revision), optionally with `content` as the template's
   * text: in the compile worker, as a catalog's files are rendered. A result that depends on a
   * secret is withheld (`sensitive`), as plans and reports withhold it.
   */
  async preview(template: string, host: string, signal: AbortSignal, opts: { content?: string; draftId?: string; owner?: string } = {}): Promise<Preview> {
    checkEditablePath(template);
    if (!template.startsWith('templates/')) throw new ApiError('BAD_REQUEST', `${template} is not a template: templates live under templates/`);
    const rel = template.slice('templates/'.length);
    const d = opts.draftId !== undefined ? await this.#own(opts.draftId, opts.owner ?? '') : undefined;
    const files = await this.#files(d, (await this.deps.revisions.liveId()) ?? null, opts.content !== undefined ? { path: template, content: opts.content } : undefined);
    if (!files.has(template)) throw new ApiError('NOT_FOUND', `the repository has no file ${template}`);
    return this.#withCheckout(files, async (dir, key) => {
      const overlay = await this.deps.revisions.inventoryOverlay(signal);
      const loaded = await this.deps.compiler.load(dir, key, signal, overlay);
      if (!loaded.hosts.some((h) => h.name === host)) throw new ApiError('NOT_FOUND', `host ${host} is not in the inventory`);
      if (!loaded.compileResources) throw new ApiError('COMPILE_FAILED', 'this server\'s compiler cannot render previews');
      const resource = { type: 'file', path: '/stead-preview', template: rel } as Resource;
      const r = await loaded.compileResources(host, [resource], { facts: await this.deps.hostStates.facts(host), origin: 'preview' }, signal);
      const errors = r.problems.filter((p) => (p.severity ?? 'error') === 'error');
      if (!r.catalog || errors.length > 0) return { template, host, ok: false, problems: errors.slice(0, 50) };
      const out = r.catalog.resources[0] as { source?: unknown; content?: unknown; sensitive?: unknown } | undefined;
      const sensitive = out?.sensitive === true || (Array.isArray(out?.sensitive) && out.sensitive.length > 0);
      if (sensitive) return { template, host, ok: true, sensitive: true, problems: [] };
      const data = typeof out?.content === 'string' ? Buffer.from(out.content, 'utf8') : typeof out?.source === 'string' ? r.blobs.get(out.source) : undefined;
      if (!data) return { template, host, ok: true, problems: [] };
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(0, maxPreviewBytes));
      } catch {
        return { template, host, ok: true, size: data.length, problems: [] };
      }
      return { template, host, ok: true, content: text, size: data.length, ...(data.length > maxPreviewBytes ? { truncated: true } : {}), problems: [] };
    });
  }

  /** The fleet plan of the draft against the live revision (FleetPlanService.planUpload). */
  async plan(id: string, owner: string, signal: AbortSignal): Promise<import('../../../schemas/api/fleet-plan.js').FleetPlan> {
    const d = await this.#own(id, owner);
    const files = await this.#files(d, d.base);
    checkFiles(files);
    return this.deps.fleetPlans.planUpload(files, undefined, signal);
  }

  // ---- committing and publishing ----

  /** Refuses (409) when the history (or, without git, the live revision) moved since the draft began. */
  async #assertBase(d: DraftDoc, git: GitService | undefined): Promise<void> {
    if (git && d.baseCommit !== undefined) {
      const head = (await git.headCommit()) ?? null;
      if (head !== d.baseCommit) throw new ApiError('CONFLICT', `main moved since this draft began (now ${head?.slice(0, 12) ?? 'empty'}, the draft is on ${d.baseCommit?.slice(0, 12) ?? 'an empty history'}): start a new draft from the new head and redo the change`, { head });
      return;
    }
    const live = (await this.deps.revisions.liveId()) ?? null;
    if (live !== d.base) throw new ApiError('CONFLICT', `the live revision moved since this draft began (now ${live?.slice(0, 12) ?? 'none'}): start a new draft and redo the change`, { live });
  }

  /**
   * Commits the draft: validated as a whole exactly as an upload or a push (a repository that
   * does not compile is refused, 422 REVISION_INVALID with every problem), recorded as a commit
   * on the history's head by `actor`, refused with 409 when main moved since the draft began or
   * while a revision rollout runs. Not live yet unless `publish` says how.
   */
  async commit(id: string, actor: DraftActor, message: string, signal: AbortSignal, publish?: PublishMode): Promise<Draft> {
    const d = await this.#own(id, actor.name);
    this.#open(d);
    if (d.changes.length === 0) throw new ApiError('BAD_REQUEST', 'the draft changes nothing');
    await this.deps.rollouts.assertNoActiveRevision();
    const git = this.deps.git && (await this.deps.git.available()) ? this.deps.git : undefined;
    await this.#assertBase(d, git);
    const files = await this.#files(d, d.base);
    checkFiles(files);
    const previous = await this.deps.revisions.liveId();
    const meta = { createdBy: actor.name, message, address: actor.address };
    const check = publish && 'rollout' in publish ? (rev: string) => (rev === previous ? Promise.resolve() : this.deps.rollouts.checkRevision({ revision: rev, previous, policy: publish.rollout })) : undefined;
    let revision: string;
    let commit: string | undefined;
    if (git) {
      const e = await git.publish(files, meta, signal, { makeLive: false, ...(d.baseCommit !== undefined ? { parent: d.baseCommit } : {}), ...(check ? { check } : {}) });
      revision = e.id;
      commit = e.commit;
    } else {
      const r = await this.deps.revisions.publish(files, { createdBy: actor.name, message }, signal, { makeLive: false });
      await check?.(r.id);
      revision = r.id;
      await this.deps.auditLog.record({ actor: actor.name, action: 'revision.publish', target: `revision:${r.id}`, address: actor.address, before: { live: previous ?? null }, after: { live: previous ?? null }, details: { via: 'console draft', draft: d._id, message: message.slice(0, 500) } });
    }
    const committed = await this.#update(id, actor.name, (x) => ({ ...x, state: 'committed', message, revision, ...(commit !== undefined ? { commit } : {}) }));
    if (!publish) return view(committed);
    return this.publish(id, actor, publish);
  }

  /**
   * Publishes a committed draft: in batches (a rollout; `rollout` is its id) or at once. Refused
   * with 409 when another commit followed it (publishing it would undo that one) or a rollout runs.
   */
  async publish(id: string, actor: DraftActor, mode: PublishMode): Promise<Draft> {
    const d = await this.#own(id, actor.name);
    if (d.state !== 'committed' || d.revision === undefined) throw new ApiError('CONFLICT', `draft ${id} is ${d.state}: commit it first${d.state === 'published' ? ' (it is published already)' : ''}`);
    const git = this.deps.git && (await this.deps.git.available()) ? this.deps.git : undefined;
    if (git && d.commit !== undefined) {
      const head = await git.headCommit();
      if (head !== d.commit) throw new ApiError('CONFLICT', `another commit (${head?.slice(0, 12) ?? '?'}) followed this one: publishing ${d.commit.slice(0, 12)} would undo it`);
    }
    const previous = await this.deps.revisions.liveId();
    if (previous === d.revision) throw new ApiError('CONFLICT', `revision ${d.revision.slice(0, 12)} is already live: there is nothing to publish`);
    let rollout: string | undefined;
    if ('rollout' in mode) {
      const ro = await this.deps.rollouts.startRevision({ revision: d.revision, previous, policy: mode.rollout, ...(d.commit !== undefined ? { commit: d.commit } : {}) }, { name: actor.name, ...(actor.address !== undefined ? { address: actor.address } : {}) });
      rollout = ro.id;
    } else {
      await this.deps.rollouts.assertNoActiveRevision();
      await this.deps.revisions.activate(d.revision);
      await this.deps.auditLog.record({ actor: actor.name, action: 'revision.publish', target: `revision:${d.revision}`, address: actor.address, before: { live: previous ?? null }, after: { live: d.revision, ...(d.commit !== undefined ? { commit: d.commit } : {}) }, details: { via: 'console draft', draft: d._id } });
    }
    void this.deps.fleetPlans.planPublished(d.revision, previous);
    return view(await this.#update(id, actor.name, (x) => ({ ...x, state: 'published', ...(rollout !== undefined ? { rollout } : {}) })));
  }
}
