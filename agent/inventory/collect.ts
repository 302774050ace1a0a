/**
 * Builds the agent's inventory report (schemas/inventory-protocol.ts `AgentInventoryReport`) from
 * a tracking config: every collector the config asks for runs (concurrently: each is bounded by
 * its own deadlines), their parts are merged, sorted and bounded to the schema's limits, and the
 * result is checked against the schema before it leaves. `reportDigest` is what the tracking
 * loop compares: the report without `collectedAt`, as canonical JSON.
 */
import { createHash } from 'node:crypto';
import { agentInventoryReportSchema, compileGuard, type AgentInventoryReport, type Guard, type TrackingConfig } from '../../schemas/index.js';
import { artifactCollector } from './artifact.js';
import { errorEntry, messageOf, type CollectEnv, type ErrorEntry, type InventoryCollector, type PackageEntry, type ServiceEntry, type VirtualEntry } from './collector.js';
import { dpkgCollector, npmCollector, pipCollector, rpmCollector } from './packages.js';
import { scriptsCollector } from './scripts.js';
import { processCollector, systemdCollector } from './services.js';
import { dockerCollector, libvirtCollector, podmanCollector } from './virtuals.js';

/** Every collector, in report order. */
export const COLLECTORS: readonly InventoryCollector[] = [dpkgCollector, rpmCollector, npmCollector, pipCollector, artifactCollector, systemdCollector, processCollector, libvirtCollector, dockerCollector, podmanCollector, scriptsCollector];

const isReport: Guard<AgentInventoryReport> = compileGuard(agentInventoryReportSchema);

const LIMITS = { packages: 1000, services: 500, virtuals: 2000, errors: 100 } as const;

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

export interface CollectOptions {
  readonly collectors?: readonly InventoryCollector[];
}

/** Runs the collectors the config asks for; never throws (a collector that throws is an `errors` entry). */
export async function collectInventory(config: TrackingConfig, env: CollectEnv, o: CollectOptions = {}): Promise<AgentInventoryReport> {
  const packages: PackageEntry[] = [];
  const services: ServiceEntry[] = [];
  const virtuals: VirtualEntry[] = [];
  const errors: ErrorEntry[] = [];
  const wanted = (o.collectors ?? COLLECTORS).filter((c) => c.wanted(config));
  const parts = await Promise.all(wanted.map(async (c) => {
    try {
      return await c.collect(config, env);
    } catch (err) {
      return { errors: [errorEntry(c.source, `the collector failed: ${messageOf(err)}`)] };
    }
  }));
  for (const p of parts) {
    packages.push(...(p.packages ?? []));
    services.push(...(p.services ?? []));
    virtuals.push(...(p.virtuals ?? []));
    errors.push(...(p.errors ?? []));
  }
  packages.sort(byKey((p) => `${p.manager}\0${p.name}`));
  services.sort(byKey((s) => s.name));
  virtuals.sort(byKey((v) => `${v.source}\0${v.kind}\0${v.name}\0${v.id ?? ''}`));
  errors.sort(byKey((e) => `${e.source}\0${e.message}`));
  const cut = (what: keyof typeof LIMITS, n: number): void => {
    if (n > LIMITS[what]) errors.push(errorEntry('agent', `${n} ${what} found; only the first ${LIMITS[what]} are reported`));
  };
  cut('packages', packages.length);
  cut('services', services.length);
  cut('virtuals', virtuals.length);
  const report: AgentInventoryReport = {
    configVersion: config.version,
    collectedAt: new Date(env.now()).toISOString(),
    packages: packages.slice(0, LIMITS.packages),
    services: services.slice(0, LIMITS.services),
    virtuals: virtuals.slice(0, LIMITS.virtuals),
    errors: errors.slice(0, LIMITS.errors),
  };
  const problems = isReport.check(report);
  if (problems.length > 0) {
    // A collector produced something the schema refuses (a bug): report what is left, and say so.
    return { ...report, packages: [], services: [], virtuals: [], errors: [errorEntry('agent', `the collected report did not pass the schema: ${problems.slice(0, 5).map((p) => `${p.path} ${p.message}`).join('; ')}`)] };
  }
  return report;
}

/** JSON with sorted object keys (attributes come from scripts and engines in any order). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** sha256 of the report without collectedAt: equal digests mean nothing changed. */
export function reportDigest(report: AgentInventoryReport): string {
  const { collectedAt: _t, ...rest } = report;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
