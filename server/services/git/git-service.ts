/**
 * The manifest history as git (ADR 0017 §1). The store is the source of truth: collection
 * `git_history` (one document per history entry, keyed by commit id), blob bucket `git` (a
 * bundle per entry holding the objects it added) and pointer `git-head` moved only by
 * compare-and-swap. Each server keeps a bare mirror <dataDir>/git/manifests.git and brings it
 * to the store's head (by unbundling what it lacks) before serving a git request or building a
 * commit, so several servers show one history.
 *
 * Commits come from three places, all under the same CAS on `git-head`:
 * - a push (the pre-receive hook asks this service over a unix socket, hook-server.ts);
 * - an API upload (`publish`): the files become a commit built with plumbing;
 * - an activation (`activate`, a rollback): a new commit whose tree equals the old revision.
 *
 * Mirror changes of one process are serialised by `withMirror`; a receive-pack request holds
 * it for its whole duration, so a sync never moves the ref under a push in progress.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import { actorName, byFields, type ActorLike, type AuditLog } from '../audit-log.js';
import type { Logger } from '../../log.js';
import type { BlobStore, Collection, DocumentStore } from '../../store/types.js';
import { isDuplicateKey } from '../../store/types.js';
import type { LocatedProblem } from '../compiler-port.js';
import { checkFiles, defaultRepoLimits, revisionId, sha256Hex, writeCheckout } from '../repository-files.js';
import type { PublishOptions, RevisionInfo, RevisionService } from '../revision-service.js';
import { git, GitError, gitVersion } from './git-exec.js';
import { HookServer, type HookRequest, type HookAnswer } from './hook-server.js';
import { policyFromPushOptions, type PushRolloutPolicy } from './push-options.js';

export const ZERO_COMMIT = '0000000000000000000000000000000000000000';
const commitSyntax = /^[0-9a-f]{40}$/;

type HistoryDoc = {
  _id: string;
  revision: string;
  parent?: string;
  author: string;
  message: string;
  at: number;
  by: string;
  seq: number;
  /** sha256 key of the bundle in the `git` bucket. */
  bundle: string;
  via: 'push' | 'api' | 'activate';
};

type HeadDoc = { _id: string; commit: string; seq: number; version: number; updatedAt: number };

/** One history entry as the API shows it. */
export interface HistoryEntry extends RevisionInfo {
  readonly commit?: string;
  readonly parent?: string;
  readonly author?: string;
}

/** What a server does with an accepted push that asked for a rollout (the rollout engine plugs in here). */
export type PushRolloutStarter = (revision: string, policy: PushRolloutPolicy, by: string) => Promise<{ id: string } | void>;
/** Throws (with a message for the pusher) when a rollout of this stored revision could not start. */
export type PushRolloutCheck = (revision: string, policy: PushRolloutPolicy) => Promise<void>;

/** Checks a push must pass before it is validated (e.g. no revision rollout in progress); throws an ApiError to refuse. */
export type PushGuard = () => Promise<void>;
/** Told about every accepted push once its revision is recorded: the revision, and what was live before it. */
export type PushAccepted = (revision: string, previous: string | undefined) => void;

export interface GitServiceOptions {
  /** The mirror's parent directory (GIT_PROJECT_ROOT). Default <dataDir>/git. */
  readonly rootDir?: string;
}

export class GitService {
  #available: Promise<boolean> | undefined;
  #mirrorChain: Promise<unknown> = Promise.resolve();
  #ready: Promise<void> | undefined;
  #hooks: HookServer | undefined;
  #rolloutStarter: PushRolloutStarter | undefined;
  #rolloutCheck: PushRolloutCheck | undefined;
  #pushGuard: PushGuard | undefined;
  #pushAccepted: PushAccepted | undefined;
  readonly #pushes = new Map<string, { operator: string; address?: string }>();
  #audit: AuditLog | undefined;
  /** GIT_PROJECT_ROOT of http-backend. */
  readonly root: string;
  /** The bare mirror. */
  readonly mirror: string;
  /** HOME of git processes: an empty directory of ours. */
  readonly home: string;

  private constructor(
    private readonly history: Collection<HistoryDoc>,
    private readonly pointers: Collection<HeadDoc>,
    private readonly bundles: BlobStore,
    private readonly revisions: RevisionService,
    private readonly dataDir: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    opts: GitServiceOptions,
  ) {
    this.root = opts.rootDir ?? join(dataDir, 'git');
    this.mirror = join(this.root, 'manifests.git');
    this.home = join(this.root, 'home');
  }

  static async open(store: DocumentStore, dataDir: string, revisions: RevisionService, clock: Clock, log: Logger, opts: GitServiceOptions = {}): Promise<GitService> {
    return new GitService(
      await store.collection<HistoryDoc>('git_history', [{ name: 'by_seq', fields: { seq: -1 } }]),
      await store.collection<HeadDoc>('pointers'),
      await store.blobs('git'),
      revisions,
      dataDir,
      clock,
      log,
      opts,
    );
  }

  /** Whether the `git` client is installed (checked once). */
  available(): Promise<boolean> {
    this.#available ??= gitVersion().then((v) => {
      if (!v) this.log.warn('git is not installed: /git/manifests.git answers 503 and uploads are not recorded as commits');
      return v !== undefined;
    });
    return this.#available;
  }

  /**
   * Publishing is recorded in the audit log from now on: revision.publish (an upload, or a
   * commit made in the browser), revision.push (git push) and revision.activate (a rollback,
   * or a revision rollout making its revision live), with the live revision before and after
   * and the commit. Every surface publishes through this service, so each is recorded once.
   */
  setAuditLog(log: AuditLog): void {
    this.#audit = log;
  }

  async #audited(by: ActorLike, action: string, revision: string, previous: string | undefined, after: Record<string, unknown>, details?: Record<string, unknown>): Promise<void> {
    await this.#audit?.record({ ...byFields(by), action, target: `revision:${revision}`, before: { live: previous ?? null }, after: { revision, ...after }, ...(details !== undefined ? { details } : {}) });
  }

  /** Plugs the rollout engine in: pushes with `-o batches=…` are handed to it instead of going live at once. */
  setRolloutStarter(starter: PushRolloutStarter | undefined, check?: PushRolloutCheck): void {
    this.#rolloutStarter = starter;
    this.#rolloutCheck = check;
  }

  /** A check every push must pass before validation (the server refuses pushes while a revision rollout runs). */
  setPushGuard(guard: PushGuard | undefined): void {
    this.#pushGuard = guard;
  }

  /** Called after each accepted push (the server stores the revision's fleet plan). */
  onPushAccepted(fn: PushAccepted | undefined): void {
    this.#pushAccepted = fn;
  }

  /** Runs `fn` with the mirror to itself (in this process). */
  withMirror<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#mirrorChain.then(fn);
    this.#mirrorChain = run.catch(() => undefined);
    return run;
  }

  #git(args: readonly string[], o: { env?: Record<string, string>; input?: Buffer | string; okCodes?: number[]; maxOutput?: number } = {}): Promise<{ stdout: Buffer; code: number }> {
    return git(args, { gitDir: this.mirror, ...o }, this.home);
  }

  /** Creates the mirror and its hook when missing (idempotent), and starts the hook socket. */
  async ready(): Promise<void> {
    this.#ready ??= (async () => {
      await fsp.mkdir(this.home, { recursive: true, mode: 0o700 });
      await fsp.mkdir(join(this.root, 'tmp'), { recursive: true, mode: 0o700 });
      try {
        await fsp.stat(join(this.mirror, 'HEAD'));
      } catch {
        await git(['init', '--quiet', '--bare', '--initial-branch=main', this.mirror], { gitDir: this.mirror }, this.home);
      }
      for (const [k, v] of [
        ['receive.denyNonFastForwards', 'true'],
        ['receive.denyDeletes', 'true'],
        ['receive.denyDeleteCurrent', 'true'],
        ['receive.advertisePushOptions', 'true'],
        ['receive.fsckObjects', 'true'],
        ['http.receivepack', 'true'],
        ['http.uploadpack', 'true'],
        ['core.logAllRefUpdates', 'false'],
        ['gc.auto', '0'],
      ] as const) {
        await this.#git(['config', k, v]);
      }
      this.#hooks = await HookServer.start(this.root, this.dataDir, (req) => this.#onHook(req), this.log);
      await fsp.mkdir(join(this.mirror, 'hooks'), { recursive: true });
      const hook = join(this.mirror, 'hooks', 'pre-receive');
      await fsp.writeFile(`${hook}.tmp`, HookServer.script(process.execPath), { mode: 0o700 });
      await fsp.rename(`${hook}.tmp`, hook);
    })();
    this.#ready.catch(() => (this.#ready = undefined));
    return this.#ready;
  }

  async close(): Promise<void> {
    await this.#hooks?.close();
  }

  /** Environment a receive-pack needs so its hook reaches this server as `operator`; call `done` afterwards. */
  pushEnvironment(operator: string, address?: string): { env: Record<string, string>; done: () => void } {
    const secret = randomBytes(32).toString('hex');
    this.#pushes.set(secret, { operator, ...(address !== undefined ? { address } : {}) });
    return { env: { STEAD_HOOK_SOCKET: this.#hooks?.path ?? '', STEAD_HOOK_SECRET: secret }, done: () => this.#pushes.delete(secret) };
  }

  async #head(): Promise<HeadDoc | null> {
    return this.pointers.findOne({ _id: 'git-head' });
  }

  async #localHead(): Promise<string | undefined> {
    const r = await this.#git(['rev-parse', '--verify', '--quiet', 'refs/heads/main^{commit}'], { okCodes: [1] });
    return r.code === 0 ? r.stdout.toString().trim() : undefined;
  }

  async #hasCommit(commit: string): Promise<boolean> {
    return (await this.#git(['cat-file', '-e', `${commit}^{commit}`], { okCodes: [1, 128] })).code === 0;
  }

  /** Whether the mirror is at the store's head (a fetch then needs no sync and no wait for a push in progress). */
  async upToDate(): Promise<boolean> {
    await this.ready();
    const head = await this.#head();
    return head === null ? (await this.#localHead()) === undefined : (await this.#localHead()) === head.commit;
  }

  /** Brings the mirror to the store's head. Call inside withMirror. */
  async sync(): Promise<void> {
    await this.ready();
    const head = await this.#head();
    if (!head) return;
    const local = await this.#localHead();
    if (local === head.commit) return;
    // Walk back from the store's head to a commit the mirror has; unbundle the rest, oldest first.
    const missing: HistoryDoc[] = [];
    let at: string | undefined = head.commit;
    while (at !== undefined && !(await this.#hasCommit(at))) {
      const doc: HistoryDoc | null = await this.history.findOne({ _id: at });
      if (!doc) throw new Error(`git history: commit ${at} is missing from the store`);
      missing.push(doc);
      at = doc.parent;
      if (missing.length > 100_000) throw new Error('git history: parent chain too long');
    }
    for (const doc of missing.reverse()) {
      const data = await this.bundles.get(doc.bundle);
      if (!data) throw new Error(`git history: the bundle of ${doc._id} is missing from the store`);
      const file = join(this.root, 'tmp', `sync-${doc._id}-${randomBytes(4).toString('hex')}.bundle`);
      await fsp.writeFile(file, data, { mode: 0o600 });
      try {
        await this.#git(['bundle', 'unbundle', file]);
      } finally {
        await fsp.rm(file, { force: true });
      }
    }
    await this.#git(['update-ref', 'refs/heads/main', head.commit]);
    if (missing.length > 0) this.log.info('git mirror synced from the store', { commits: missing.length, head: head.commit });
  }

  /**
   * Starts the history from the live revision when there is none yet but a revision is live
   * (published before the server had git): the first commit, by "stead".
   */
  async bootstrap(): Promise<void> {
    if (await this.#head()) return;
    const live = await this.revisions.liveId();
    if (live === undefined) return;
    await this.#commitFiles(live, await this.revisions.files(live), { by: 'stead', message: `import of revision ${live.slice(0, 12)}, live before the history began`, via: 'api', onlyWhenEmpty: true });
  }

  /** A bundle of the objects `commit` adds to `parent` (header + pack; `git bundle unbundle` reads it). */
  async #bundle(commit: string, parent: string | undefined, env: Record<string, string> = {}): Promise<Buffer> {
    const header = `# v2 git bundle\n${parent ? `-${parent}\n` : ''}${commit} refs/heads/main\n\n`;
    const pack = await this.#git(['pack-objects', '--revs', '--stdout', '-q'], { env, input: `${commit}\n${parent ? `^${parent}\n` : ''}`, maxOutput: 512 * 1024 * 1024 });
    return Buffer.concat([Buffer.from(header), pack.stdout]);
  }

  /**
   * Records `commit` (whose objects are readable with `env`) as the next history entry after
   * `expectedParent`: stores its bundle and entry, then moves `git-head` by CAS. False when the
   * head is no longer `expectedParent` (another commit won).
   */
  async #record(commit: string, expectedParent: HeadDoc | null, doc: Omit<HistoryDoc, '_id' | 'seq' | 'bundle' | 'parent'>, env: Record<string, string> = {}): Promise<boolean> {
    const parent = expectedParent?.commit;
    const bundle = await this.#bundle(commit, parent, env);
    const key = sha256Hex(bundle);
    await this.bundles.put(key, bundle, { commit });
    const seq = (expectedParent?.seq ?? 0) + 1;
    const entry: HistoryDoc = { _id: commit, ...doc, ...(parent ? { parent } : {}), seq, bundle: key };
    try {
      await this.history.insertOne(entry);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.history.replaceOne({ _id: commit }, entry);
    }
    const now = this.clock.now();
    if (!expectedParent) {
      try {
        await this.pointers.insertOne({ _id: 'git-head', commit, seq, version: 1, updatedAt: now });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    }
    const won = await this.pointers.findOneAndUpdate({ _id: 'git-head', version: expectedParent.version, commit: expectedParent.commit }, { $set: { commit, seq, updatedAt: now }, $inc: { version: 1 } });
    return won !== null;
  }

  /**
   * Validates and stores `files` (RevisionService.publish) and records them as a commit on the
   * history's head; makes the revision live unless `opts.makeLive` is false. Without git the
   * revision is published as before, without a commit.
   */
  async publish(files: ReadonlyMap<string, Buffer>, meta: { message?: string; createdBy: string; address?: string | undefined }, signal: AbortSignal, opts: PublishOptions & { check?: (revision: string) => Promise<void>; parent?: string | null } = {}): Promise<HistoryEntry> {
    const { address, ...revMeta } = meta;
    const by = { name: meta.createdBy, address };
    const previous = this.#audit ? await this.revisions.liveId() : undefined;
    const info = await this.revisions.publish(files, revMeta, signal, { makeLive: false });
    // A check of the stored revision before it enters the history (a rollout that could not start).
    await opts.check?.(info.id);
    const details = { files: files.size, ...(meta.message !== undefined ? { message: meta.message.slice(0, 500) } : {}) };
    if (!(await this.available())) {
      if (opts.makeLive === false) {
        await this.#audited(by, 'revision.publish', info.id, previous, { live: previous ?? null }, details);
        return info;
      }
      const r = { ...info, ...(await this.revisions.activate(info.id)) };
      await this.#audited(by, 'revision.publish', info.id, previous, { live: info.id }, details);
      return r;
    }
    const entry = await this.#commitFiles(info.id, files, { by: meta.createdBy, message: meta.message ?? 'upload through the API', via: 'api', ...(opts.parent !== undefined ? { parent: opts.parent } : {}) });
    const live = opts.makeLive === false ? info : await this.revisions.activate(info.id);
    await this.#audited(by, 'revision.publish', info.id, previous, { live: opts.makeLive === false ? (previous ?? null) : info.id, ...(entry?.commit !== undefined ? { commit: entry.commit } : {}) }, details);
    return { ...live, ...entry };
  }

  /** A rollback: a new commit whose tree equals revision `id`, made live. */
  async activate(id: string, actor: ActorLike): Promise<HistoryEntry> {
    const by = actorName(actor);
    const previous = this.#audit ? await this.revisions.liveId() : undefined;
    if (!(await this.available())) {
      const r = await this.revisions.activate(id);
      await this.#audited(actor, 'revision.activate', id, previous, { live: id });
      return r;
    }
    const files = await this.revisions.files(id);
    const entry = await this.#commitFiles(id, files, { by, message: `activate revision ${id.slice(0, 12)}`, via: 'activate' });
    const r = { ...(await this.revisions.activate(id)), ...entry };
    await this.#audited(actor, 'revision.activate', id, previous, { live: id, ...(entry?.commit !== undefined ? { commit: entry.commit } : {}) });
    return r;
  }

  /** Commits the tree of `files` on the head (nothing when the head already has this revision). */
  async #commitFiles(revision: string, files: ReadonlyMap<string, Buffer>, meta: { by: string; message: string; via: HistoryDoc['via']; onlyWhenEmpty?: boolean; parent?: string | null }): Promise<{ commit: string; parent?: string; author: string } | undefined> {
    return this.withMirror(async () => {
      for (let attempt = 0; attempt < 10; attempt++) {
        await this.sync();
        const head = await this.#head();
        // A commit built on a known parent (a console draft) is refused, as a push would be, when main moved.
        if (meta.parent !== undefined && (head?.commit ?? null) !== meta.parent) throw new ApiError('CONFLICT', `main moved on the server (now ${head?.commit.slice(0, 12) ?? 'empty'}) since this change was started from ${meta.parent?.slice(0, 12) ?? 'an empty history'}: start again from the new head`, { head: head?.commit ?? null });
        if (head) {
          const cur = await this.history.findOne({ _id: head.commit });
          if (meta.onlyWhenEmpty) return undefined;
          if (cur?.revision === revision) return { commit: cur._id, ...(cur.parent ? { parent: cur.parent } : {}), author: cur.author };
        }
        const tree = await this.#writeTree(files);
        const author = authorOf(meta.by);
        const at = this.clock.now();
        const date = `@${Math.floor(at / 1000)} +0000`;
        const env = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
        const commit = (await this.#git(['commit-tree', tree, ...(head ? ['-p', head.commit] : []), '-F', '-'], { env, input: `${meta.message}\n` })).stdout.toString().trim();
        const authorText = `${author.name} <${author.email}>`;
        if (await this.#record(commit, head, { revision, author: authorText, message: meta.message, at, by: meta.by, via: meta.via })) {
          await this.#git(['update-ref', 'refs/heads/main', commit, ...(head ? [head.commit] : [])]);
          this.log.info('git commit recorded', { commit, revision, by: meta.by, via: meta.via });
          return { commit, ...(head ? { parent: head.commit } : {}), author: authorText };
        }
      }
      throw new ApiError('CONFLICT', 'the manifest history moved under ten attempts in a row; try again');
    });
  }

  /** Writes `files` as blobs and a tree into the mirror; resolves the tree id. */
  async #writeTree(files: ReadonlyMap<string, Buffer>): Promise<string> {
    const tmp = join(this.root, 'tmp', `tree-${randomBytes(8).toString('hex')}`);
    const index = `${tmp}.index`;
    try {
      await writeCheckout(tmp, files);
      const paths = [...files.keys()].sort();
      const shas = (await this.#git(['hash-object', '-w', '--no-filters', '--stdin-paths'], { input: paths.map((p) => join(tmp, p)).join('\n') + '\n' })).stdout.toString().trim().split('\n');
      if (shas.length !== paths.length) throw new Error('git hash-object: unexpected output');
      const lines = paths.map((p, i) => `100644 ${shas[i]}\t${p}\0`).join('');
      const env = { GIT_INDEX_FILE: index };
      await this.#git(['update-index', '--add', '-z', '--index-info'], { env, input: lines });
      return (await this.#git(['write-tree'], { env })).stdout.toString().trim();
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
      await fsp.rm(index, { force: true });
    }
  }

  /** The commit at the head of main (undefined: no history yet). */
  async headCommit(): Promise<string | undefined> {
    return (await this.#head())?.commit;
  }

  /** History entries, newest first (then revisions from before the history, if room is left). */
  async list(limit: number): Promise<HistoryEntry[]> {
    const liveId = await this.revisions.liveId();
    const out: HistoryEntry[] = [];
    const head = await this.#head();
    const seen = new Set<string>();
    let at = head?.commit;
    let oldest = Number.POSITIVE_INFINITY;
    const infos = new Map<string, RevisionInfo>();
    while (at !== undefined && out.length < limit) {
      const doc = await this.history.findOne({ _id: at });
      if (!doc) break;
      let info = infos.get(doc.revision);
      if (!info) {
        const r = await this.revisions.get(doc.revision);
        if (r) info = { id: r.id, createdAt: r.createdAt, createdBy: r.createdBy, ...(r.message !== undefined ? { message: r.message } : {}), fileCount: r.fileCount, live: r.live };
        if (info) infos.set(doc.revision, info);
      }
      // The newest entry of the live revision is the one that is live.
      const live = doc.revision === liveId && !seen.has(doc.revision);
      seen.add(doc.revision);
      out.push({ id: doc.revision, createdAt: doc.at, createdBy: doc.by, message: doc.message.trim(), fileCount: info?.fileCount ?? 0, live, commit: doc._id, ...(doc.parent ? { parent: doc.parent } : {}), author: doc.author });
      oldest = Math.min(oldest, doc.at);
      at = doc.parent;
    }
    if (out.length < limit) {
      // Revisions published before the history existed (or while git was missing).
      for (const r of await this.revisions.list(limit)) {
        if (out.length >= limit) break;
        if (!seen.has(r.id) && r.createdAt <= oldest) out.push({ ...r, live: r.live && !seen.has(r.id) });
      }
    }
    return out;
  }

  // ---- the pre-receive hook ----

  async #onHook(req: HookRequest): Promise<HookAnswer> {
    const push = this.#pushes.get(req.secret);
    if (!push) return refuse(['stead: this push is not authorised (unknown hook secret)']);
    if (req.updates.length !== 1) return refuse([`stead: push exactly one ref (refs/heads/main); got ${req.updates.length}`]);
    const u = req.updates[0]!;
    if (u.ref !== 'refs/heads/main') return refuse([`stead: only refs/heads/main exists here; ${u.ref.slice(0, 200)} is refused`]);
    if (!commitSyntax.test(u.old) || !commitSyntax.test(u.new)) return refuse(['stead: malformed ref update']);
    if (u.new === ZERO_COMMIT) return refuse(['stead: deleting main is refused']);
    const env: Record<string, string> = {};
    for (const k of ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH'] as const) {
      const v = req.env[k];
      if (typeof v === 'string' && v !== '') {
        if (!v.split(':').every((p) => p.startsWith(this.mirror + '/'))) return refuse(['stead: the quarantine directory is outside the mirror']);
        env[k] = v;
      }
    }
    let policy: PushRolloutPolicy | undefined;
    try {
      policy = policyFromPushOptions(req.pushOptions);
    } catch (err) {
      return refuse([`stead: ${(err as Error).message}`]);
    }
    if (policy && !this.#rolloutStarter) return refuse(['stead: this server cannot start rollouts (push without -o batches=…, or use stead publish --batches)']);
    if (this.#pushGuard) {
      try {
        await this.#pushGuard();
      } catch (err) {
        return refuse([`stead: ${err instanceof ApiError ? err.message : (err as Error).message}`.slice(0, 2000)]);
      }
    }
    const head = await this.#head();
    const expectedOld = head?.commit ?? ZERO_COMMIT;
    if (u.old !== expectedOld) return refuse([`stead: main moved on the server (now ${expectedOld.slice(0, 12)}): fetch first, then push again`]);
    if (head) {
      const ff = await this.#git(['merge-base', '--is-ancestor', head.commit, u.new], { env, okCodes: [1] });
      if (ff.code !== 0) return refuse(['stead: non-fast-forward: fetch first and merge or rebase']);
    }
    let files: Map<string, Buffer>;
    let message: string;
    let author: string;
    try {
      files = await this.#readTree(u.new, env);
      const raw = (await this.#git(['cat-file', 'commit', u.new], { env, maxOutput: 1024 * 1024 })).stdout.toString('utf8');
      const blank = raw.indexOf('\n\n');
      message = (blank < 0 ? '' : raw.slice(blank + 2)).trim().slice(0, 1000) || '(no message)';
      author = /^author (.*) \d+ [+-]\d{4}$/m.exec(raw)?.[1]?.slice(0, 300) ?? push.operator;
    } catch (err) {
      return refuse([`stead: ${err instanceof ApiError ? err.message : `cannot read the pushed tree: ${(err as Error).message.slice(0, 300)}`}`]);
    }
    let revision: RevisionInfo;
    try {
      revision = await this.revisions.publish(files, { createdBy: push.operator, message }, AbortSignal.timeout(15 * 60_000), { makeLive: false });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'REVISION_INVALID') {
        const problems = ((err.details as { problems?: LocatedProblem[] } | undefined)?.problems ?? []).slice(0, 200);
        return refuse([...problems.map(problemLine), `stead: the push is refused (${problems.length} error(s)); the live revision is unchanged`]);
      }
      return refuse([`stead: ${err instanceof ApiError ? err.message : 'validation failed'}`.slice(0, 2000)]);
    }
    if (policy && this.#rolloutCheck) {
      try {
        await this.#rolloutCheck(revision.id, policy);
      } catch (err) {
        return refuse([`stead: the rollout cannot start: ${err instanceof ApiError ? err.message : (err as Error).message}`.slice(0, 2000), 'stead: the push is refused; the live revision is unchanged']);
      }
    }
    const previous = await this.revisions.liveId();
    const won = await this.#record(u.new, head, { revision: revision.id, author, message, at: this.clock.now(), by: push.operator, via: 'push' }, env);
    if (!won) return refuse(['stead: main moved on the server during validation: fetch first, then push again']);
    const lines = [`stead: revision ${revision.id.slice(0, 12)} recorded as ${u.new.slice(0, 12)}`];
    if (policy) {
      try {
        const r = await this.#rolloutStarter!(revision.id, policy, push.operator);
        lines.push(`stead: rollout ${r?.id ?? ''} started (${policy.batches})`);
      } catch (err) {
        lines.push(`stead: the commit is recorded but the rollout could not start: ${(err as Error).message.slice(0, 500)}`);
      }
    } else {
      await this.revisions.activate(revision.id);
      lines.push('stead: live on every host');
    }
    if (revision.id !== previous) this.#pushAccepted?.(revision.id, previous);
    await this.#audited({ name: push.operator, address: push.address }, 'revision.push', revision.id, previous, { live: policy ? (previous ?? null) : revision.id, commit: u.new }, { author, message: message.slice(0, 500), files: files.size, ...(policy ? { rollout: policy.batches } : {}) });
    this.log.info('git push accepted', { commit: u.new, revision: revision.id, by: push.operator });
    return { ok: true, lines };
  }

  /** The files of a commit's tree, read in the push's quarantine environment. */
  async #readTree(commit: string, env: Record<string, string>): Promise<Map<string, Buffer>> {
    const listing = (await this.#git(['ls-tree', '-r', '-z', '-l', '--full-tree', commit], { env, maxOutput: 32 * 1024 * 1024 })).stdout.toString('utf8');
    const entries: { path: string; sha: string; size: number }[] = [];
    let total = 0;
    for (const rec of listing.split('\0')) {
      if (rec === '') continue;
      const tab = rec.indexOf('\t');
      const [mode, type, sha, size] = rec.slice(0, tab).split(/\s+/);
      const path = rec.slice(tab + 1);
      if (type !== 'blob' || (mode !== '100644' && mode !== '100755')) throw new ApiError('BAD_REQUEST', `${path.slice(0, 200)}: only regular files are allowed (not links or submodules)`);
      const n = Number(size);
      total += n;
      if (entries.length >= defaultRepoLimits.maxFiles) throw new ApiError('PAYLOAD_TOO_LARGE', `the repository has more than ${defaultRepoLimits.maxFiles} files`);
      if (n > defaultRepoLimits.maxFileBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `${path.slice(0, 200)} is larger than ${defaultRepoLimits.maxFileBytes} bytes`);
      if (total > defaultRepoLimits.maxTotalBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `the repository is larger than ${defaultRepoLimits.maxTotalBytes} bytes`);
      entries.push({ path, sha: sha!, size: n });
    }
    const files = new Map<string, Buffer>();
    if (entries.length > 0) {
      const out = (await this.#git(['cat-file', '--batch'], { env, input: entries.map((e) => `${e.sha}\n`).join(''), maxOutput: total + entries.length * 128 + 1024 })).stdout;
      let pos = 0;
      for (const e of entries) {
        const nl = out.indexOf(0x0a, pos);
        const header = out.subarray(pos, nl).toString('utf8').split(' ');
        const size = Number(header[2]);
        if (header[0] !== e.sha || header[1] !== 'blob' || size !== e.size) throw new Error(`cat-file: unexpected answer for ${e.path}`);
        files.set(e.path, Buffer.from(out.subarray(nl + 1, nl + 1 + size)));
        pos = nl + 1 + size + 1;
      }
    }
    checkFiles(files);
    return files;
  }
}

function refuse(lines: string[]): HookAnswer {
  return { ok: false, lines };
}

/** `file:line: message` as git shows it (`remote: …`). */
function problemLine(p: LocatedProblem): string {
  const where = p.file !== undefined ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}${p.line !== undefined && p.column !== undefined ? `:${p.column}` : ''}: ` : '';
  return `${where}${p.message}${p.host !== undefined ? ` [host ${p.host}]` : ''}`.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ').slice(0, 1000);
}

/** Git identity of an operator: its name, and a made-up address (operators have no e-mail). */
export function authorOf(operator: string): { name: string; email: string } {
  const name = operator.replace(/[<>\n\u0000-\u001f]/g, '').slice(0, 100) || 'operator';
  return { name, email: `${name.replace(/[^A-Za-z0-9._-]/g, '_')}@stead` };
}

/** Whether an error is a git failure (for logging). */
export function isGitError(err: unknown): err is GitError {
  return err instanceof GitError;
}

/** For tests and diffs: the revision id of a file map. */
export { revisionId };
