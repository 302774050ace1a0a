/**
 * Providers: how a resource type does its work on one platform (Puppet's type/provider split).
 * The resource types in agent/resources/ know *what* (diff, properties); providers know *how*
 * (which commands). Every command goes through ctx.host.exec with an argv array; a provider
 * confines itself under ctx.host.root when that is not "/".
 */
import type { ServiceResource } from '../../schemas/resources/service.js';
import type { UserResource } from '../../schemas/resources/user.js';
import type { ResourceContext } from '../resources/resource.js';

/** An error from a provider; `code` is stable (reports and tests match on it). */
export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export type ProviderErrorCode =
  | 'COMMAND_FAILED'        // a command exited non-zero; the message carries its stderr tail
  | 'NO_PROVIDER'           // no provider fits this host (e.g. rpm/dnf is not implemented)
  | 'NOT_FOUND'             // the package/unit/user does not exist where it must
  | 'UNSUPPORTED'           // the provider cannot do this (e.g. systemd under --root)
  | 'TIMEOUT'               // a service did not start/stop in time
  | 'BAD_STATE'             // a file the provider parses is malformed
  | 'NO_ACCOUNT_FILES';     // <root>/etc/passwd, group (or shadow, for a password) is missing

/** Packages: dpkg/apt today; rpm/dnf fit the same interface. */
export interface PackageProvider {
  readonly name: 'apt';
  /** The installed version; undefined when not installed (removed with config files left counts as not installed). Never writes. */
  installed(name: string, ctx: ResourceContext): Promise<string | undefined>;
  /** The version the configured repositories would install (from the local index; no download). Never writes. */
  candidate(name: string, ctx: ResourceContext): Promise<string | undefined>;
  /** Installs, upgrades or downgrades to exactly `version`, or to the candidate when undefined. */
  install(name: string, version: string | undefined, ctx: ResourceContext): Promise<void>;
  /** Removes the package (configuration files stay, like `apt-get remove`). */
  remove(name: string, ctx: ResourceContext): Promise<void>;
  /** The platform's version order: negative, 0, positive. Throws on an invalid version. */
  compareVersions(a: string, b: string): number;
  /** undefined when `version` is valid for this platform, else why not. */
  checkVersion(version: string): string | undefined;
}

/** What a service provider sees. `enabled` is undefined when the provider has no boot-time notion. */
export interface ServiceStatus {
  readonly running: boolean;
  readonly enabled: boolean | undefined;
  /** The main process ids found (process provider); empty for systemd. */
  readonly pids: readonly number[];
}

export interface ServiceProvider {
  readonly name: 'systemd' | 'process';
  /** Whether `enable` means anything to this provider. */
  readonly supportsEnable: boolean;
  status(desired: ServiceResource, ctx: ResourceContext): Promise<ServiceStatus>;
  /** Starts and waits until status() reports it running (or throws TIMEOUT). */
  start(desired: ServiceResource, ctx: ResourceContext): Promise<void>;
  /** Stops and waits until status() reports it stopped. */
  stop(desired: ServiceResource, ctx: ResourceContext): Promise<void>;
  /** Restarts (refresh); starts it when it was not running. */
  restart(desired: ServiceResource, ctx: ResourceContext): Promise<void>;
  setEnabled(desired: ServiceResource, enabled: boolean, ctx: ResourceContext): Promise<void>;
}

/** One line of /etc/passwd joined with its /etc/shadow hash. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly comment: string;
  readonly home: string;
  readonly shell: string;
  /** The hash from /etc/shadow; undefined when shadow has no line for the user. */
  readonly password: string | undefined;
}

/** One line of /etc/group. */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** The account database of the root, as the files say. */
export interface AccountDb {
  readonly users: readonly PasswdEntry[];
  readonly groups: readonly GroupEntry[];
}

/** The properties of a user the provider writes: the schema's, never a mirror of it. */
export type UserSpec = Pick<UserResource, 'uid' | 'gid' | 'groups' | 'home' | 'shell' | 'comment' | 'password' | 'system' | 'managehome'>;

/** Users and groups: the shadow tools (useradd & co). */
export interface UserProvider {
  readonly name: 'shadow';
  /** Parses the root's /etc/passwd, /etc/shadow and /etc/group. Never writes. */
  accounts(ctx: ResourceContext): Promise<AccountDb>;
  addUser(name: string, spec: UserSpec, ctx: ResourceContext): Promise<void>;
  /** Changes only the properties present in `spec` (system and managehome are ignored). */
  modifyUser(name: string, spec: UserSpec, ctx: ResourceContext): Promise<void>;
  deleteUser(name: string, removeHome: boolean, ctx: ResourceContext): Promise<void>;
  addGroup(name: string, gid: number | undefined, system: boolean, ctx: ResourceContext): Promise<void>;
  modifyGroup(name: string, gid: number, ctx: ResourceContext): Promise<void>;
  deleteGroup(name: string, ctx: ResourceContext): Promise<void>;
}
