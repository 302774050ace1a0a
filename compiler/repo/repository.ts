/**
 * A manifest repository loaded into memory: one revision. Everything a compile needs, except
 * templates and files/ content, which are read from `templateRoot` / `filesRoot` (a revision's
 * checkout is immutable, so a compile stays a pure function of the revision). Derived data
 * (group members, merged variables of other hosts) is memoized in `memo`, keyed by purpose;
 * it depends on the revision only.
 */
import type { Group } from '../../schemas/repo/group.js';
import type { InventoryHost } from '../../schemas/repo/inventory.js';
import type { RepoProblem } from '../../schemas/repo/problem.js';
import type { Role } from '../../schemas/repo/role.js';
import type { SteadConfig } from '../../schemas/repo/stead-config.js';
import type { SourcedManifest } from '../manifest/parse-manifest.js';
import type { VarMap } from '../vars/merge.js';
import type { YamlFile } from './yaml-file.js';

export interface HostEntry {
  readonly name: string;
  /** The inventory file it is declared in. */
  readonly file: string;
  readonly record: InventoryHost;
  /** When the store's inventory was merged in (ADR 0018): the record as the files declare it (undefined: a store-only host, or no overlay). */
  readonly repositoryRecord?: InventoryHost;
  /** The store's inventory has a record of this host. */
  readonly inStore?: boolean;
}

export interface GroupEntry {
  readonly name: string;
  readonly file: string;
  readonly def: Group;
  /** true when a rule of this group, or of a child group, looks at agent-reported facts. */
  readonly factBased: boolean;
}

export interface RoleEntry {
  readonly name: string;
  readonly file: string;
  readonly def: Role;
  /** The role file checked as a manifest (resources with positions); shared by every host. */
  readonly manifest: SourcedManifest;
}

export interface Repository {
  /** Absolute path of the checkout. */
  readonly root: string;
  /** The revision label put in catalogs: given by the caller (a git commit), else the first 16 hex of contentHash. */
  readonly revision: string;
  /** sha256 over every file's path and content: two loads with equal contentHash compile alike. */
  readonly contentHash: string;
  readonly config: SteadConfig | undefined;
  /** Hosts by name, sorted. */
  readonly hosts: ReadonlyMap<string, HostEntry>;
  readonly groups: ReadonlyMap<string, GroupEntry>;
  readonly roles: ReadonlyMap<string, RoleEntry>;
  /** vars/global.yaml, when present. */
  readonly globalVars: { readonly file: string; readonly vars: VarMap } | undefined;
  /** Every parsed YAML file by repository-relative path (for locating problems). */
  readonly yamlFiles: ReadonlyMap<string, YamlFile>;
  readonly templateRoot: string;
  readonly filesRoot: string;
  /** Problems found while loading and cross-checking; any error refuses every compile. */
  readonly problems: readonly RepoProblem[];
  /** The secret key (AES-256-GCM), when the caller holds it. Never part of any cache key or output. */
  readonly secretKey: Buffer | undefined;
  /** Memo for data derived from the revision alone. */
  readonly memo: Map<string, unknown>;
}

/** Stable codes of repository problems (besides the manifest and catalog codes passed through). */
export type RepoProblemCode =
  | 'NOT_A_REPOSITORY'
  | 'READ_FAILED'
  | 'SYMLINK_REFUSED'
  | 'YAML_SYNTAX'
  | 'INVALID_VALUE'
  | 'BAD_NAME'
  | 'DUPLICATE_HOST'
  | 'UNKNOWN_HOST'
  | 'UNKNOWN_GROUP'
  | 'UNKNOWN_ROLE'
  | 'GROUP_CYCLE'
  | 'RESERVED_NAME'
  | 'VAR_FORBIDDEN_KEY'
  | 'VAR_CONFLICT'
  | 'FACT_GROUP_KIND'
  | 'FACT_GROUP_SECRET'
  | 'PARAM_MISSING'
  | 'PARAM_TYPE'
  | 'SECRET_KEY_MISSING'
  | 'SECRET_KEY_INVALID'
  | 'SECRET_MALFORMED'
  | 'SECRET_DECRYPT_FAILED'
  | 'SECRET_IN_ROLE'
  | 'BAD_REGEX'
  | 'ROLE_UNUSED';
