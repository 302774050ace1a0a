/**
 * What the server needs from the catalog compiler, stated as a port so services do not depend
 * on the compiler's internals; server/compose.ts adapts compiler/ to it. A revision is an
 * immutable checkout directory (the compiler reads templates and files/ from it, confined).
 */
import type { Catalog } from '../../schemas/catalog.js';
import type { Resource } from '../../schemas/resource.js';
import type { InventoryRecord } from '../../schemas/api/inventory.js';
import type { InventoryHost as RepositoryInventoryRecord } from '../../schemas/repo/inventory.js';

/** The store's inventory records merged over a revision's inventory files (ADR 0018, compiler/repo/inventory-overlay.ts). */
export interface InventoryOverlayInput {
  readonly records: ReadonlyMap<string, InventoryRecord>;
  /** Equal digests mean equal records. */
  readonly digest: string;
}

/** A located problem (file/line/path), as the compiler reports them. */
export interface LocatedProblem {
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
  readonly host?: string;
  readonly severity?: 'error' | 'warning';
}

/** One host of a revision's inventory: its groups and the operator-set attributes (jobs target by them). */
export interface InventoryHost {
  readonly name: string;
  readonly groups: readonly string[];
  readonly idc?: string;
  readonly set?: string;
  readonly env?: string;
  /** Management address (probes connect to it). */
  readonly ip?: string;
  readonly tags?: readonly string[];
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
  /** CMDB fields (ADR 0018): every address, rack, business line, kind, parent, lifecycle (absent = online). */
  readonly ips?: readonly string[];
  readonly rack?: string;
  readonly business?: string;
  readonly kind?: string;
  readonly parent?: string;
  readonly lifecycle?: string;
  /** Where the record comes from: the revision's inventory files, the store, or both merged. */
  readonly source?: 'repository' | 'store' | 'both';
  /** The record as the revision's files declare it (before the store's was merged over it). */
  readonly repositoryRecord?: RepositoryInventoryRecord;
}

export interface CompileResult {
  /** undefined when problems has errors. */
  readonly catalog: Catalog | undefined;
  /** Blob contents by "sha256:<hex>". */
  readonly blobs: ReadonlyMap<string, Buffer>;
  readonly problems: readonly LocatedProblem[];
}

export interface VariablesView {
  /** The merged variables as a YAML document. */
  readonly yaml: string;
  /** Flattened keys ("region.mongodb.port") → value. */
  readonly flat: Record<string, unknown>;
  /** Which layer set `key`, and what it overrode; undefined when the host is unknown. */
  explain(key: string): Promise<unknown>;
}

/** One loaded revision. */
export interface LoadedRevision {
  readonly hosts: readonly InventoryHost[];
  /** Does this host's catalog depend on agent-sent facts (so a facts change must recompile)? */
  usesFacts(host: string): boolean;
  compile(host: string, facts: Record<string, unknown> | undefined, signal: AbortSignal): Promise<CompileResult>;
  variables(host: string, facts: Record<string, unknown> | undefined): Promise<VariablesView>;
  /**
   * One-shot resources (a job step's files) compiled for `host` as its roles are: the host's
   * merged variables with `launchVars` on top, secrets, template globals, sensitivity marking.
   * `origin` names them in problems ("job step"). Not cached.
   */
  compileResources?(host: string, resources: readonly Resource[], opts: { facts?: Record<string, unknown> | undefined; launchVars?: Record<string, unknown>; origin: string }, signal: AbortSignal): Promise<CompileResult>;
}

export interface CompilerPort {
  /** Validates a whole repository checkout: schema, references and a compile of every host. */
  validate(dir: string, revision: string, signal: AbortSignal, overlay?: InventoryOverlayInput): Promise<readonly LocatedProblem[]>;
  /**
   * The quick check of a checkout (the console editor's, as you type): every file loaded and
   * cross-checked as validation does, and the syntax of the templates `templates` (relative to
   * templates/), but no host compiled. Absent on compilers that cannot (callers then validate).
   */
  check?(dir: string, revision: string, signal: AbortSignal, overlay: InventoryOverlayInput | undefined, templates: readonly string[]): Promise<readonly LocatedProblem[]>;
  /** Loads a validated checkout for inventory and compiles; `overlay`: the store's inventory merged in. */
  load(dir: string, revision: string, signal: AbortSignal, overlay?: InventoryOverlayInput): Promise<LoadedRevision>;
}
