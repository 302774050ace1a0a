/**
 * The report the agent sends (ADR 0021): the run's full report, compacted against the catalog
 * it ran when the agent still holds that catalog. Changed, would-change, failed and skipped
 * resources (and in-sync ones with output, a refresh, or slower than schemas/compact-report.ts
 * slowMs) stay in full; the other in-sync ones are summarised (count, digest, run order, total
 * time). The spool keeps the full report: when the server cannot check the compact one it
 * answers FULL_REPORT_REQUIRED and the full one is sent instead.
 *
 * Pure but for a one-entry memo (the index of the last catalog: a long-running agent enforces
 * one catalog at a time).
 */
import { compactReport, indexCatalog, resourceId, type CatalogIndex, type Catalog, type RunReport } from '../../schemas/index.js';

let memo: CatalogIndex | undefined;

/** The index of `catalog`'s resource ids, computed once per catalog id. */
export function catalogIndexOf(catalog: Catalog): CatalogIndex | undefined {
  if (memo?.catalogId === catalog.id && memo.ids.length === catalog.resources.length) return memo;
  const index = indexCatalog(catalog.id, catalog.resources.map(resourceId));
  if (index) memo = index;
  return index;
}

/**
 * The compact form of `report` to send, or undefined when it should go in full: the catalog is
 * not the one the report ran (an older queued report), or nothing can be left out.
 */
export function compactForDelivery(report: RunReport, catalog: Catalog | undefined): RunReport | undefined {
  if (!catalog || catalog.id !== report.catalogId) return undefined;
  const index = catalogIndexOf(catalog);
  return index ? compactReport(report, index) : undefined;
}
