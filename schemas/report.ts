import type { FromSchema } from 'json-schema-to-ts';

export const propertyChangeSchema = {
  $id: 'urn:stead:property-change',
  type: 'object',
  description: 'One property moved (or would move) from before to after.',
  additionalProperties: false,
  required: ['property', 'corrective'],
  properties: {
    property: { type: 'string', description: 'Property name: "ensure", "content", "mode", …' },
    before: { description: 'Actual value before; absent when the thing did not exist; "[redacted sha256:…]" when sensitive.' },
    after: { description: 'Desired value; "[redacted sha256:…]" when sensitive.' },
    corrective: { type: 'boolean', description: 'true: the host had moved away from what was last applied (drift); false: the desired state changed, or the change is routine.' },
    routine: { type: 'boolean', description: 'true: a change made on every run by design (an exec with no guard, or whose onlyif/unless still say "run" after it ran); never corrective. Absent otherwise.' },
  },
} as const;

export const resourceStatusSchema = {
  $id: 'urn:stead:resource-status',
  type: 'object',
  description: 'The outcome for one resource in one run.',
  additionalProperties: false,
  required: ['id', 'type', 'state', 'changes'],
  properties: {
    id: { type: 'string', description: 'The resource id, "type:title".' },
    type: { type: 'string', description: 'Resource type.' },
    state: { enum: ['in-sync', 'changed', 'would-change', 'failed', 'skipped'], description: 'What happened.' },
    changes: { type: 'array', items: propertyChangeSchema, description: 'Per-property changes; [] when in sync.' },
    diff: { type: 'string', description: 'Unified diff of file content (absent for sensitive resources and binary files).' },
    refreshed: { type: 'boolean', description: 'A refresh (restart) ran (or would run, in noop) because a notifying resource changed.' },
    output: { type: 'string', description: 'Captured output of a command (exec), truncated to 64 KiB.' },
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      description: 'Why the resource failed or was skipped.',
      properties: {
        code: { type: 'string', description: 'Stable error code, e.g. "TIMEOUT", "NOT_CONVERGED", "DEPENDENCY_FAILED", "APPLY_FAILED".' },
        message: { type: 'string', description: 'A message a person can act on.' },
      },
    },
    durationMs: { type: 'number', minimum: 0, description: 'Time spent on this resource. Agents always send it; absent only for an in-sync resource that a compact report summarised (its time is not recorded: ADR 0021).' },
  },
} as const;

/** Run order of a compact report: [first catalog index, length] pairs; the bound keeps a pathological order's cost in check. */
export const maxOrderItems = 200_000;

export const inSyncSummarySchema = {
  $id: 'urn:stead:in-sync-summary',
  type: 'object',
  description: 'Compact reports only (ADR 0021): the in-sync resources left out of `resources`, summarised against the catalog the run enforced (catalogId). The server checks it against the catalog it served under that id and answers 422 FULL_REPORT_REQUIRED when it cannot; the agent then sends the full report.',
  additionalProperties: false,
  required: ['count', 'digest', 'order', 'durationMs'],
  properties: {
    count: { type: 'integer', minimum: 0, description: 'In-sync resources left out: every catalog resource not listed in `resources`.' },
    digest: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'sha256 hex of catalogId, a newline, and the JSON array of the left-out resource ids sorted by UTF-16 code units (schemas/compact-report.ts inSyncDigest).' },
    order: {
      type: 'array',
      maxItems: maxOrderItems,
      items: { type: 'integer', minimum: 0, description: 'A catalog index (even places) or a run length (odd places).' },
      description: 'The run order of all the catalog\'s resources, as [first catalog index, length] pairs of consecutive indexes: [0, n] when the run followed the catalog\'s order.',
    },
    durationMs: { type: 'number', minimum: 0, description: 'Total time spent on the resources left out.' },
  },
} as const;

export const runReportSchema = {
  $id: 'urn:stead:run-report',
  type: 'object',
  description: 'The result of one agent run (or one stead apply).',
  additionalProperties: false,
  required: ['runId', 'host', 'catalogId', 'revision', 'mode', 'startedAt', 'durationMs', 'outcome', 'counts', 'resources'],
  properties: {
    runId: { type: 'string', minLength: 1, maxLength: 128, pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]+$', description: 'Unique id of the run (idempotency key for delivery); letters, digits, ".", "_", "-", and never "." or ".." alone (it names a console URL and a spool file).' },
    host: { type: 'string', minLength: 1, description: 'Host name.' },
    catalogId: { type: 'string', description: 'Id of the enforced catalog.' },
    revision: { type: 'string', description: 'Manifest revision the catalog came from.' },
    mode: { enum: ['apply', 'noop'], description: 'apply changes the host; noop only reports what would change.' },
    startedAt: { type: 'string', format: 'date-time', description: 'RFC 3339 start time.' },
    durationMs: { type: 'number', minimum: 0, description: 'Wall time of the run.' },
    outcome: {
      enum: ['in-sync', 'changed', 'would-change', 'failed'],
      description: 'failed when any resource failed or was skipped; else changed or would-change when anything moved; else in-sync.',
    },
    counts: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'inSync', 'changed', 'wouldChange', 'failed', 'skipped', 'corrective'],
      description: 'Resources by state; corrective counts resources with at least one corrective change.',
      properties: {
        total: { type: 'integer', minimum: 0, description: 'All resources.' },
        inSync: { type: 'integer', minimum: 0, description: 'In sync.' },
        changed: { type: 'integer', minimum: 0, description: 'Changed.' },
        wouldChange: { type: 'integer', minimum: 0, description: 'Would change (noop).' },
        failed: { type: 'integer', minimum: 0, description: 'Failed.' },
        skipped: { type: 'integer', minimum: 0, description: 'Skipped because a dependency failed.' },
        corrective: { type: 'integer', minimum: 0, description: 'Changed or would change because of drift.' },
      },
    },
    error: { type: 'string', description: 'Why the whole run failed before any resource ran (invalid catalog, cycle).' },
    resources: { type: 'array', items: resourceStatusSchema, description: 'One status per resource, in the order they ran; in a compact report (inSyncSummary present) only those not summarised there.' },
    inSyncSummary: inSyncSummarySchema,
  },
} as const;

export type PropertyChange = FromSchema<typeof propertyChangeSchema>;
export type ResourceStatus = FromSchema<typeof resourceStatusSchema>;
export type ResourceState = ResourceStatus['state'];
export type RunReport = FromSchema<typeof runReportSchema>;
export type InSyncSummary = FromSchema<typeof inSyncSummarySchema>;
