/**
 * Prometheus metrics, one registry per app (so tests can build several apps). Served at
 * /metrics to operators only. Counters ending in _total count what this process did since it
 * started (sum them over servers); stead_hosts is the fleet as the shared store shows it.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Services } from '../services/services.js';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'route'>;
}

export function createMetrics(services: Services, opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'stead_' });
  const requests = new Counter({ name: 'stead_http_requests_total', help: 'HTTP requests by route template and status.', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const duration = new Histogram({ name: 'stead_http_request_duration_seconds', help: 'HTTP request latency by route template.', labelNames: ['route'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry] });
  new Gauge({ name: 'stead_catalog_cache_hits_total', help: 'Catalog polls answered from the compile cache.', registers: [registry], collect() { this.set(services.catalogs.counters.hits); } });
  new Gauge({ name: 'stead_catalog_compiles_total', help: 'Catalog compiles.', registers: [registry], collect() { this.set(services.catalogs.counters.compiles); } });
  new Gauge({ name: 'stead_catalog_compile_failures_total', help: 'Catalog compiles that failed (COMPILE_FAILED: template errors, worker deadline or crash).', registers: [registry], collect() { this.set(services.catalogs.counters.compileFailures); } });
  new Gauge({ name: 'stead_revisions_published_total', help: 'Revisions published through this process.', registers: [registry], collect() { this.set(services.revisions.counters.published); } });
  new Gauge({ name: 'stead_revisions_rejected_total', help: 'Revision uploads refused as invalid (the live revision stayed).', registers: [registry], collect() { this.set(services.revisions.counters.rejected); } });
  new Gauge({
    name: 'stead_hosts',
    help: 'Hosts of the live inventory by compliance state (in-sync, drifted, failing, not-reporting, unknown).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const summary = await services.compliance.summary(AbortSignal.timeout(10_000));
      for (const [state, n] of Object.entries(summary.fleet.counts)) this.set({ state }, n);
    },
  });
  new Gauge({ name: 'stead_catalog_cache_entries', help: 'Hosts with a cached catalog.', registers: [registry], collect() { this.set(services.catalogs.counters.cached); } });
  new Gauge({ name: 'stead_reports_ingested_total', help: 'Reports stored.', registers: [registry], collect() { this.set(services.reports.counters.ingested); } });
  new Gauge({ name: 'stead_reports_duplicate_total', help: 'Re-sent reports acknowledged without storing.', registers: [registry], collect() { this.set(services.reports.counters.duplicates); } });
  new Gauge({ name: 'stead_reports_compact_received_total', help: 'Compact reports (ADR 0021) checked and stored as sent.', registers: [registry], collect() { this.set(services.reports.counters.compactReceived); } });
  new Gauge({ name: 'stead_reports_compacted_total', help: 'Full reports stored compact (their catalog was known).', registers: [registry], collect() { this.set(services.reports.counters.compactedOnIngest); } });
  new Gauge({ name: 'stead_reports_compact_refused_total', help: 'Compact reports refused with FULL_REPORT_REQUIRED (the agent then sent the full report).', registers: [registry], collect() { this.set(services.reports.counters.compactRefused); } });
  new Gauge({ name: 'stead_nonce_cache_entries', help: 'Request nonces remembered for replay protection.', registers: [registry], collect() { this.set(services.nonces.size); } });
  return { registry, requests, duration };
}
