/**
 * The inventory (CMDB) API (ADR 0018): operator-owned host records kept in the store, merged with
 * the repository's inventory; lifecycle; import/export; search with filter expressions; dynamic
 * inventory groups; virtual resources reported by agents.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { hostName, isoTime } from './fragments.js';
import { registerSchemas } from '../validate.js';

export const lifecycleState = {
  enum: ['deploying', 'standby', 'online', 'maintenance', 'faulty', 'retired'],
  description: 'Lifecycle: only online hosts take part in jobs and rollouts unless a launch asks for inactive hosts too.',
} as const;
export type LifecycleState = FromSchema<typeof lifecycleState>;

export const hostKind = {
  enum: ['physical', 'mgmt-vm', 'vm', 'db-instance'],
  description: 'physical: a machine; mgmt-vm: a management VM; vm: a guest VM; db-instance: a database instance (its parent is the host it runs on).',
} as const;

/** "product/module" or "product": the two-level business line. */
export const businessLine = {
  type: 'string',
  minLength: 1,
  maxLength: 129,
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})?$',
  description: 'Business line as "product/module" (or "product" alone).',
  'x-hint': 'must be "product/module" or "product": letters, digits, ".", "_" or "-"',
} as const;

const shortText = { type: 'string', minLength: 1, maxLength: 64 } as const;
const ipText = { type: 'string', minLength: 2, maxLength: 45, pattern: '^[0-9A-Fa-f:.]+$', description: 'An IPv4 or IPv6 address.', 'x-hint': 'must be an IPv4 or IPv6 address' } as const;
const tagText = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^;,\\s]+$', description: 'A tag: no spaces, commas or semicolons.' } as const;
const attrName = '^[A-Za-z_][A-Za-z0-9_-]{0,63}$';

/** The operator-owned fields of one host record (everything but the name). Absent = not set. */
const recordFields = {
  ips: { type: 'array', maxItems: 32, items: ipText, description: 'Addresses the CMDB knows; the first is the management address.' },
  idc: { ...shortText, description: 'Data centre.' },
  rack: { ...shortText, description: 'Rack.' },
  business: businessLine,
  kind: hostKind,
  parent: { ...hostName, description: 'The physical host a VM or DB instance runs on.' },
  lifecycle: lifecycleState,
  tags: { type: 'array', maxItems: 64, uniqueItems: true, items: tagText, description: 'Tags (selectors tag:NAME, filters tag:NAME).' },
  attributes: {
    type: 'object',
    maxProperties: 64,
    propertyNames: { pattern: attrName, 'x-hint': 'attribute names are letters, digits, "_" or "-", starting with a letter or "_"' },
    additionalProperties: { type: ['string', 'number', 'boolean'] },
    description: 'Free-form attributes (filters attr.NAME=VALUE).',
  },
} as const;

/** One host as the store keeps it (operator-owned). */
const inventoryRecord = {
  type: 'object',
  description: 'An operator-owned inventory record kept in the store.',
  additionalProperties: false,
  required: ['hostname'],
  properties: { hostname: hostName, ...recordFields },
} as const;
export const inventoryRecordSchema = { $id: 'urn:stead:api:inventory-record', ...inventoryRecord } as const;
export type InventoryRecord = FromSchema<typeof inventoryRecordSchema>;

/** A lifecycle transition. */
export const lifecycleEventSchema = {
  $id: 'urn:stead:api:lifecycle-event',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'from', 'to', 'by', 'at'],
  properties: {
    host: hostName,
    from: { anyOf: [lifecycleState, { type: 'null' }], description: 'The state before (null: the record was created).' },
    to: lifecycleState,
    by: { type: 'string', description: 'Operator (token name) or "import" / "api" actor that made the change.' },
    at: isoTime,
    reason: { type: 'string', maxLength: 1024, description: 'Free text given with the change.' },
    planJob: { type: 'string', description: 'The job of the on-online plan this transition launched, when one was.' },
  },
} as const;
export type LifecycleEvent = FromSchema<typeof lifecycleEventSchema>;

/** A field where the CMDB and the agent disagree. */
export const inventoryMismatchSchema = {
  $id: 'urn:stead:api:inventory-mismatch',
  type: 'object',
  additionalProperties: false,
  required: ['field', 'recorded', 'reported', 'message'],
  properties: {
    field: { enum: ['ip', 'hostname', 'kind'], description: 'ip: a recorded address the agent does not have; hostname: the agent reports another hostname; kind: a physical record on a virtual machine or the reverse.' },
    recorded: { type: 'string', description: 'What the inventory says.' },
    reported: { type: 'string', description: 'What the agent reported.' },
    message: { type: 'string', description: 'A sentence for the operator.' },
  },
} as const;

/** Why a host is in a group. */
export const groupReasonSchema = {
  $id: 'urn:stead:api:group-reason',
  type: 'object',
  additionalProperties: false,
  required: ['group', 'source', 'why'],
  properties: {
    group: { type: 'string', description: 'Group name.' },
    source: { enum: ['repository', 'inventory'], description: 'repository: groups/<name>.yaml of the live revision; inventory: a dynamic group kept in the store.' },
    why: { type: 'string', description: 'e.g. "listed in hosts", "rule 2 matched (idc=sz, tags contains canary)", "member of child group web-sz", "filter idc=sz and tag:canary".' },
  },
} as const;

/** A virtual resource an agent reported running on its host. */
export const virtualResource = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'source'],
  properties: {
    kind: { enum: ['vm', 'container', 'db-instance', 'other'], description: 'What it is.' },
    name: { type: 'string', minLength: 1, maxLength: 253, description: 'Domain, container or instance name.' },
    id: { type: 'string', maxLength: 128, description: 'Hypervisor/runtime id (UUID, container id).' },
    state: { type: 'string', maxLength: 64, description: 'As the source says (running, shut off, exited, …).' },
    source: { type: 'string', maxLength: 64, description: 'libvirt, docker, podman, or the collector script name.' },
    host: { ...hostName, description: 'The inventory host with this name, when one exists.' },
    attributes: { type: 'object', maxProperties: 64, additionalProperties: { type: ['string', 'number', 'boolean', 'null'] }, description: 'Further fields the source reported (scalars only).' },
  },
} as const;
export const virtualResourceSchema = { $id: 'urn:stead:api:virtual-resource', ...virtualResource } as const;
export type VirtualResource = FromSchema<typeof virtualResourceSchema>;

/** One row of the host list: the merged record plus what the list shows. */
const inventoryHostRow = {
  type: 'object',
  additionalProperties: false,
  required: ['hostname', 'source', 'lifecycle'],
  properties: {
    hostname: hostName,
    ...recordFields,
    lifecycle: { ...lifecycleState, description: 'Effective lifecycle (a host no record sets is online).' },
    source: { enum: ['store', 'repository', 'both', 'agent'], description: 'Where the record comes from: the store, the live revision\'s inventory files, both (merged), or only an enrolled/reporting agent.' },
    groups: { type: 'array', items: { type: 'string' }, description: 'Repository and inventory groups the host is in.' },
    compliance: { type: 'string', description: 'Compliance state (as in /hosts).' },
    os: { type: 'string', description: 'Facts: OS name and version, when reported.' },
    mismatches: { type: 'integer', minimum: 0, description: 'How many fields the agent contradicts.' },
  },
} as const;

export const inventoryHostListSchema = {
  $id: 'urn:stead:api:inventory-host-list',
  type: 'object',
  additionalProperties: false,
  required: ['hosts', 'total'],
  properties: {
    hosts: { type: 'array', items: inventoryHostRow, description: 'One page, sorted by hostname.' },
    total: { type: 'integer', minimum: 0, description: 'Hosts matching the filter.' },
    next: { type: 'string', description: 'Cursor for the next page (pass as ?after=); absent on the last page.' },
  },
} as const;
export type InventoryHostList = FromSchema<typeof inventoryHostListSchema>;

/** GET /api/v1/inventory/hosts/:host — everything about one host. */
export const inventoryHostDetailSchema = {
  $id: 'urn:stead:api:inventory-host-detail',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'source', 'effective', 'groups', 'mismatches', 'lifecycleHistory', 'children', 'virtuals'],
  properties: {
    host: hostName,
    source: inventoryHostRow.properties.source,
    effective: { ...inventoryRecord, description: 'The merged record every selector, group rule and variable layer reads.' },
    stored: { ...inventoryRecord, description: 'The store record, when one exists.' },
    repository: { type: 'object', description: 'The live revision\'s inventory record, when it declares the host.' },
    facts: { type: 'object', description: 'What the agent reported (OS, kernel, CPU, memory, disks, IPs, uptime).' },
    factsUpdatedAt: isoTime,
    mismatches: { type: 'array', items: { $ref: 'urn:stead:api:inventory-mismatch' }, description: 'Where the agent contradicts the record.' },
    groups: { type: 'array', items: { $ref: 'urn:stead:api:group-reason' }, description: 'Every group and why.' },
    lifecycleHistory: { type: 'array', items: { $ref: 'urn:stead:api:lifecycle-event' }, description: 'Newest first, at most 100.' },
    children: { type: 'array', items: hostName, description: 'Inventory hosts whose parent is this host.' },
    virtuals: { type: 'array', items: { $ref: 'urn:stead:api:virtual-resource' }, description: 'What the agent reported running on it (libvirt, containers, collectors).' },
    virtualsUpdatedAt: isoTime,
  },
} as const;

export type InventoryHostDetail = FromSchema<typeof inventoryHostDetailSchema, { references: [typeof inventoryMismatchSchema, typeof groupReasonSchema, typeof lifecycleEventSchema, typeof virtualResourceSchema] }>;

/** PATCH /api/v1/inventory/hosts/:host — set fields; null removes one. Creates the record when missing. */
export const inventoryPatchSchema = {
  $id: 'urn:stead:api:inventory-patch',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ips: { anyOf: [recordFields.ips, { type: 'null' }], description: 'Addresses; null removes.' },
    idc: { anyOf: [recordFields.idc, { type: 'null' }], description: 'Data centre; null removes.' },
    rack: { anyOf: [recordFields.rack, { type: 'null' }], description: 'Rack; null removes.' },
    business: { anyOf: [recordFields.business, { type: 'null' }], description: 'Business line; null removes.' },
    kind: { anyOf: [recordFields.kind, { type: 'null' }], description: 'Kind; null removes.' },
    parent: { anyOf: [recordFields.parent, { type: 'null' }], description: 'Parent host; null removes.' },
    lifecycle: recordFields.lifecycle,
    tags: { anyOf: [recordFields.tags, { type: 'null' }], description: 'Tags (replaces the list); null removes.' },
    attributes: { type: 'object', maxProperties: 64, propertyNames: { pattern: attrName }, additionalProperties: { type: ['string', 'number', 'boolean', 'null'] }, description: 'Per attribute; null removes it.' },
    reason: { type: 'string', maxLength: 1024, description: 'Recorded with a lifecycle change.' },
  },
} as const;
export type InventoryPatch = FromSchema<typeof inventoryPatchSchema>;

/** A problem of an import: the line (CSV, 1-based, header is line 1) or record index (JSON). */
export const importProblemSchema = {
  $id: 'urn:stead:api:import-problem',
  type: 'object',
  additionalProperties: false,
  required: ['line', 'message'],
  properties: {
    line: { type: 'integer', minimum: 1, description: 'CSV: the physical line; JSON: the line of the record in the submitted text.' },
    column: { type: 'string', description: 'CSV header name or JSON field.' },
    hostname: { type: 'string', description: 'The row\'s hostname, when it has one.' },
    message: { type: 'string', description: 'What is wrong and how to fix it.' },
  },
} as const;

/** POST /api/v1/inventory/import?format=csv|json&dryRun=true|false&mode=merge|replace — the body is the file. */
export const importResultSchema = {
  $id: 'urn:stead:api:import-result',
  type: 'object',
  additionalProperties: false,
  required: ['dryRun', 'applied', 'added', 'changed', 'removed', 'unchanged', 'problems'],
  properties: {
    dryRun: { type: 'boolean', description: 'Nothing was written: the answer says what would happen.' },
    applied: { type: 'boolean', description: 'true only when not a dry run and there were no problems: then every row was imported; never a part.' },
    mode: { enum: ['merge', 'replace'], description: 'merge (default): rows add or change records, others stay; replace: store records absent from the file are removed.' },
    added: { type: 'array', items: hostName, maxItems: 1000, description: 'At most 1,000 names; counts are exact.' },
    changed: { type: 'array', maxItems: 1000, description: 'Records that differ (at most 1,000).', items: { type: 'object', additionalProperties: false, required: ['hostname', 'fields'], properties: { hostname: hostName, fields: { type: 'array', items: { type: 'string' }, description: 'Fields that differ.' } } } },
    removed: { type: 'array', items: hostName, maxItems: 1000, description: 'replace mode: store records absent from the file (at most 1,000 names).' },
    unchanged: { type: 'integer', minimum: 0, description: 'Rows equal to their record.' },
    counts: { type: 'object', additionalProperties: false, required: ['added', 'changed', 'removed'], description: 'Exact counts.', properties: { added: { type: 'integer', description: 'Records added.' }, changed: { type: 'integer', description: 'Records changed.' }, removed: { type: 'integer', description: 'Records removed.' } } },
    problems: { type: 'array', maxItems: 1000, items: { $ref: 'urn:stead:api:import-problem' }, description: 'Every bad row (at most 1,000); when any, nothing was imported.' },
    generation: { type: 'integer', description: 'The inventory generation after the import.' },
  },
} as const;
export type ImportResult = FromSchema<typeof importResultSchema, { references: [typeof importProblemSchema] }>;

/** A dynamic inventory group kept in the store: a filter expression. */
export const inventoryGroupSchema = {
  $id: 'urn:stead:api:inventory-group',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'filter'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'Group name (selectors group:NAME); must not clash with a repository group.' },
    filter: { type: 'string', minLength: 1, maxLength: 4096, description: 'A filter expression (docs/inventory.md), e.g. "idc=sz and tag:canary and lifecycle=online".' },
    description: { type: 'string', maxLength: 1024, description: 'Free text.' },
    members: { type: 'integer', minimum: 0, description: 'Hosts matching now (responses only).' },
  },
} as const;
export type InventoryGroup = FromSchema<typeof inventoryGroupSchema>;

/** Inventory settings: what lifecycle changes trigger. */
export const inventorySettingsSchema = {
  $id: 'urn:stead:api:inventory-settings',
  type: 'object',
  additionalProperties: false,
  properties: {
    onOnlinePlan: { anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'null' }], description: 'A saved job plan launched on a host when it moves to online (server initialisation); null: none.' },
  },
} as const;
export type InventorySettings = FromSchema<typeof inventorySettingsSchema>;

// Referenced by $id above: the runtime fallback must know them.
registerSchemas([inventoryMismatchSchema, groupReasonSchema, lifecycleEventSchema, virtualResourceSchema, importProblemSchema]);
