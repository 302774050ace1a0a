/**
 * The tracking config agents fetch (ADR 0018 §5): tracked packages, tracked services, collector
 * scripts and the collection interval, with a version that is the digest of the rest (and the
 * ETag). Fleet-wide: every host gets the same config.
 */
import { createHash } from 'node:crypto';
import type { TrackedPackage, TrackedService, SoftwareSettings } from '../../../schemas/api/software.js';
import type { Collector, TrackingConfig } from '../../../schemas/inventory-protocol.js';

export const defaultIntervalSeconds = 60;

/** Canonical JSON: object keys sorted, so equal configs have equal digests. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Builds the config (entries sorted by key) and its version. */
export function buildTrackingConfig(packages: readonly TrackedPackage[], services: readonly TrackedService[], collectors: readonly Collector[], settings: SoftwareSettings): TrackingConfig {
  const body = {
    intervalSeconds: settings.intervalSeconds ?? defaultIntervalSeconds,
    virtuals: settings.virtuals ?? true,
    packages: [...packages]
      .sort((a, b) => cmp(`${a.manager}/${a.name}`, `${b.manager}/${b.name}`))
      .map((p) => ({ name: p.name, manager: p.manager, ...(p.path !== undefined ? { path: p.path } : {}), ...(p.manager === 'artifact' && p.versions !== undefined ? { versions: { ...p.versions } } : {}) })),
    services: [...services].sort((a, b) => cmp(a.name, b.name)).map((s) => ({ ...s })),
    collectors: [...collectors].sort((a, b) => cmp(a.name, b.name)).map((c) => ({ ...c })),
  };
  const version = createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32);
  return { version, ...body };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
