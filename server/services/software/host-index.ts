/**
 * The in-memory picture of every host's last inventory report that the tables read (ADR 0018
 * §6–§7), so a table request never loads every report from the store:
 *
 *  - per host: the reported packages, services (with the drift memory) and when it arrived;
 *  - per package (manager/name): which host runs which version — the per-package table and the
 *    fleet view ("how many hosts run each version") are a walk of one map, not of every report.
 *
 * It is loaded once from the store on first use and then kept current two ways: this server's
 * ingests apply directly, and a refresh (at most once a second, on a table request) reads only
 * the host documents received since the last refresh (minus a margin for clock steps and for
 * other servers' writes in flight), so reports ingested by other servers show up too.
 */
import type { ServiceMemory, ServiceState } from './drift.js';

export interface IndexedPackage {
  readonly name: string;
  readonly manager: string;
  readonly version: string | null;
  readonly arch?: string;
  readonly sha256?: string;
}

export interface IndexedService {
  readonly name: string;
  readonly state: ServiceState;
  readonly pid: number | null;
  readonly startedAt: string | null;
  readonly user: string | null;
  readonly processes?: number;
  readonly memory: ServiceMemory;
}

export interface IndexedHost {
  readonly host: string;
  readonly receivedAt: number;
  readonly collectedAt: string;
  /** manager/name → package. */
  readonly packages: ReadonlyMap<string, IndexedPackage>;
  readonly services: ReadonlyMap<string, IndexedService>;
}

export const packageKey = (manager: string, name: string): string => `${manager}/${name}`;

export class HostIndex {
  readonly #hosts = new Map<string, IndexedHost>();
  /** manager/name → host → version (null: not installed). */
  readonly #byPackage = new Map<string, Map<string, IndexedPackage>>();
  #sorted: string[] | undefined;

  get size(): number {
    return this.#hosts.size;
  }

  get(host: string): IndexedHost | undefined {
    return this.#hosts.get(host);
  }

  /** Replaces a host's entry unless the index already holds a newer one (a refresh racing an ingest). */
  apply(entry: IndexedHost): void {
    const prev = this.#hosts.get(entry.host);
    if (prev && prev.receivedAt > entry.receivedAt) return;
    if (prev) {
      for (const k of prev.packages.keys()) {
        const m = this.#byPackage.get(k);
        m?.delete(entry.host);
        if (m && m.size === 0) this.#byPackage.delete(k);
      }
    } else {
      this.#sorted = undefined;
    }
    this.#hosts.set(entry.host, entry);
    for (const [k, p] of entry.packages) {
      let m = this.#byPackage.get(k);
      if (!m) this.#byPackage.set(k, (m = new Map()));
      m.set(entry.host, p);
    }
  }

  /** Hosts in name order (cached until a host is added). */
  hosts(): readonly string[] {
    this.#sorted ??= [...this.#hosts.keys()].sort(cmp);
    return this.#sorted;
  }

  /** Hosts reporting `key`, with what they run. */
  package(key: string): ReadonlyMap<string, IndexedPackage> | undefined {
    return this.#byPackage.get(key);
  }
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
