/**
 * A shortened copy of a run report, for a server that refused the whole one as too large (413):
 * every resource keeps its id, type, state, property names and error code, but diffs and
 * command output are left out and long values and messages are cut to 1 KiB. The counts, the
 * outcome and every resource's state stay exact, so the host's compliance is right; the full
 * report stays in the spool (set aside as *.rejected) for anyone who needs the detail.
 */
import type { PropertyChange, ResourceStatus, RunReport } from '../../schemas/index.js';

const maxText = 1024;

function cut(s: string): string {
  return s.length > maxText ? `${s.slice(0, maxText)}… (${s.length} characters; shortened: the report was too large for the server)` : s;
}

function cutValue(v: unknown): unknown {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return cut(v);
  const json = JSON.stringify(v);
  return json !== undefined && json.length > maxText ? cut(json) : v;
}

function shortenChange(c: PropertyChange): PropertyChange {
  const before = cutValue(c.before);
  const after = cutValue(c.after);
  return { ...c, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) };
}

function shortenResource(r: ResourceStatus): ResourceStatus {
  const { diff: _diff, output: _output, ...rest } = r;
  return { ...rest, changes: r.changes.map(shortenChange), ...(r.error ? { error: { ...r.error, message: cut(r.error.message) } } : {}) };
}

export function shortenReport(report: RunReport): RunReport {
  return { ...report, resources: report.resources.map(shortenResource), ...(report.error !== undefined ? { error: cut(report.error) } : {}) };
}
