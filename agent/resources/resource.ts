/**
 * The contract every resource type implements (see docs/resource-contract.md).
 *
 * The engine calls validate, then read, then diff. Only outside noop mode, and only when diff
 * returned changes, does it call apply; after apply it calls read and diff again, and anything
 * still different fails the resource. read and diff never change the host: that is what makes
 * noop safe without the resource knowing about it. The engine, not the resource, owns noop,
 * timeouts, redaction and the corrective flag.
 */
import type { ResourceOf, ResourceType } from '../../schemas/index.js';
import type { Host } from '../host/host.js';

/** A semantic problem the JSON Schema cannot express; `path` is a JSON pointer into the resource. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** Where blob content ("sha256:<hex>") comes from: local files for stead apply, the server for an agent. */
export interface BlobSource {
  /** The bytes of a blob, verified against its sha256; throws when unavailable. */
  get(ref: string, signal: AbortSignal): Promise<Buffer>;
}

/** What a resource may use while it runs. */
export interface ResourceContext {
  readonly host: Host;
  readonly blobs: BlobSource;
  /** Aborted on shutdown or when the per-resource timeout expires. */
  readonly signal: AbortSignal;
  /** Agent state directory (backups, archive markers); a real path, not under the root. */
  readonly stateDir: string;
  /** Every resource id in the catalog (directory purge keeps managed paths). */
  readonly catalogPaths: ReadonlySet<string>;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** One property that differs: `before` is absent when the thing does not exist. */
export interface Change {
  readonly property: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** What apply() is asked to do, computed by the engine from read() and diff(). */
export interface Plan<K extends ResourceType, Actual> {
  readonly desired: ResourceOf<K>;
  readonly actual: Actual | undefined;
  readonly changes: readonly Change[];
}

/** Returned by `readNow` when the actual state needs an asynchronous read (the engine then calls `read`). */
export const NOT_NOW: unique symbol = Symbol('stead.notNow');
export type NotNow = typeof NOT_NOW;

export interface ApplyResult {
  /** Command output to show in the report (exec). */
  readonly output?: string;
}

export interface ResourceImpl<K extends ResourceType, Actual> {
  readonly type: K;
  /** Cross-field checks with no I/O. */
  validate(desired: ResourceOf<K>): Problem[];
  /** Reads actual state; undefined when the thing does not exist. Never writes. */
  read(desired: ResourceOf<K>, ctx: ResourceContext): Promise<Actual | undefined>;
  /**
   * Optional synchronous twin of read (docs/resource-contract.md, rule 12): the actual state at
   * once, or NOT_NOW when it needs something asynchronous. Same rules as read: never writes.
   */
  readNow?(desired: ResourceOf<K>, ctx: ResourceContext): Actual | undefined | NotNow;
  /**
   * Optional (rule 12): true when this run's change is routine, made on every run by design (an
   * exec with no guard, or whose guards still say "run" after it ran); such changes are reported
   * `routine` and never as corrective. Called after apply (or, in noop, after diff).
   */
  routine?(desired: ResourceOf<K>, ctx: ResourceContext): boolean;
  /** Pure comparison; [] means in sync. An `ensure` change, if any, comes first and alone. */
  diff(desired: ResourceOf<K>, actual: Actual | undefined): Change[];
  /** A unified diff for the report (files); called only when diff found changes. Never writes. */
  describe?(plan: Plan<K, Actual>, ctx: ResourceContext): Promise<string | undefined>;
  /** Converges in one call or throws. Never called in noop mode or with no changes. */
  apply(plan: Plan<K, Actual>, ctx: ResourceContext): Promise<ApplyResult | void>;
  /** Reacts to a notify/subscribe edge from a changed resource (service: restart; exec: run). Skipped in noop. */
  refresh?(desired: ResourceOf<K>, ctx: ResourceContext): Promise<ApplyResult | void>;
}

/** One implementation per type. Leaving a type out is a compile error. */
export type Registry = { readonly [K in ResourceType]: ResourceImpl<K, unknown> };
