/**
 * Software and services (ADR 0018): what operators track, what agents report, the tables.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { hostName, isoTime } from './fragments.js';
import { rolloutPolicySchema } from './rollouts.js';
import { registerSchemas } from '../validate.js';

export const packageManager = {
  enum: ['dpkg', 'rpm', 'npm', 'pip', 'artifact'],
  description: 'dpkg: Debian packages (dpkg-query); rpm: rpm -q; npm: global npm packages; pip: python3 -m pip; artifact: a release archive or directory identified by its sha256.',
} as const;
export type PackageManager = FromSchema<typeof packageManager>;

const pkgName = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9@][A-Za-z0-9@+._/-]{0,127}$', description: 'Package name as its manager spells it (artifact: a label).', 'x-hint': 'must be a package name: letters, digits, "@", "+", ".", "_", "/" or "-"' } as const;
const versionText = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9.+~:_-]+$', description: 'A version as the manager prints it (artifact: a label such as a release number).' } as const;

/** PUT /api/v1/software/packages/:manager/:name — a tracked package. */
export const trackedPackageSchema = {
  $id: 'urn:stead:api:tracked-package',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'manager'],
  properties: {
    name: pkgName,
    manager: packageManager,
    approved: { ...versionText, description: 'The approved version: hosts running another version are "outdated" (older) or "ahead" (newer).' },
    path: { type: 'string', minLength: 2, maxLength: 1024, pattern: '^/', description: 'artifact only: the absolute path of the archive or directory on the host.' },
    versions: { type: 'object', maxProperties: 256, propertyNames: versionText, additionalProperties: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'artifact only: known versions by sha256 (file content; directory: sha256 over sorted "path\\0sha256\\n" lines); an unknown checksum reports as "sha256:<first 12>".' },
    description: { type: 'string', maxLength: 1024, description: 'Free text.' },
  },
} as const;
export type TrackedPackage = FromSchema<typeof trackedPackageSchema>;

export const packageStatus = {
  enum: ['up-to-date', 'outdated', 'ahead', 'missing', 'unknown'],
  description: 'Against the approved version, ordered as the manager orders versions: up-to-date (equal), outdated (older), ahead (newer), missing (not installed), unknown (no approved version, or not comparable).',
} as const;

/** One row: a tracked package on one host. */
export const hostPackageRowSchema = {
  $id: 'urn:stead:api:host-package-row',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'name', 'manager', 'installed', 'status'],
  properties: {
    host: hostName,
    name: pkgName,
    manager: packageManager,
    installed: { anyOf: [versionText, { type: 'null' }], description: 'null: not installed.' },
    arch: { type: 'string', maxLength: 32, description: 'Architecture (dpkg/rpm).' },
    approved: versionText,
    status: packageStatus,
    reportedAt: isoTime,
  },
} as const;
export type HostPackageRow = FromSchema<typeof hostPackageRowSchema>;

/** GET /api/v1/software/packages (?host=H | ?name=P&manager=M) */
export const packageTableSchema = {
  $id: 'urn:stead:api:package-table',
  type: 'object',
  additionalProperties: false,
  required: ['packages'],
  properties: {
    packages: { type: 'array', items: { $ref: 'urn:stead:api:host-package-row' }, description: 'Rows sorted by host then name (or, for ?name, by host).' },
    tracked: { type: 'array', items: { $ref: 'urn:stead:api:tracked-package' }, description: 'The tracked packages (when not filtered by name: all).' },
    versions: {
      type: 'array',
      description: 'Fleet view: per tracked package, how many hosts run each version (ordered newest first).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'manager', 'counts'],
        properties: {
          name: pkgName,
          manager: packageManager,
          approved: versionText,
          counts: { type: 'array', description: 'Per installed version (null: not installed), newest first.', items: { type: 'object', additionalProperties: false, required: ['version', 'hosts', 'status'], properties: { version: { type: ['string', 'null'], description: 'Installed version; null: not installed.' }, hosts: { type: 'integer', description: 'Hosts running it.' }, status: packageStatus } } },
        },
      },
    },
    total: { type: 'integer', minimum: 0, description: 'Rows matching, before paging.' },
    next: { type: 'string', description: 'Cursor for the next page (?after=).' },
  },
} as const;

export type PackageTable = FromSchema<typeof packageTableSchema, { references: [typeof hostPackageRowSchema, typeof trackedPackageSchema] }>;

/** POST /api/v1/software/packages/:manager/:name/upgrade — "upgrade to approved" as a canary rollout. */
export const packageUpgradeRequestSchema = {
  $id: 'urn:stead:api:package-upgrade-request',
  type: 'object',
  additionalProperties: false,
  properties: {
    targets: { type: 'string', minLength: 1, maxLength: 4096, description: 'A target selector; default: every host reporting the package outdated or missing.' },
    policy: { $ref: 'urn:stead:api:rollout-policy', description: 'Batches, gate, threshold (default batches "1,50%,100%", auto gate, max failures 0).' },
    version: { ...versionText, description: 'Default: the approved version.' },
  },
} as const;

export type PackageUpgradeRequest = FromSchema<typeof packageUpgradeRequestSchema, { references: [typeof rolloutPolicySchema] }>;

/** A tracked service: a systemd unit or a process pattern. */
export const trackedService = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'kind'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$', description: 'Service name (a systemd unit without ".service", or a label for a process).' },
    kind: { enum: ['systemd', 'process'], description: 'systemd: systemctl show; process: /proc scan by pattern.' },
    unit: { type: 'string', maxLength: 256, description: 'systemd: the unit (default NAME.service).' },
    pattern: { type: 'string', minLength: 1, maxLength: 256, description: 'process: a substring of the command line (/proc/PID/cmdline joined by spaces), or /regex/ (RE2 subset, bounded).' },
    user: { type: 'string', maxLength: 64, description: 'process: only processes of this user.' },
    start: { type: 'string', maxLength: 4096, description: 'process: the command that starts it (for start/restart from the table).' },
    stop: { type: 'string', maxLength: 4096, description: 'process: the command that stops it (default: SIGTERM to the matching processes).' },
    description: { type: 'string', maxLength: 1024, description: 'Free text.' },
  },
} as const;
export const trackedServiceSchema = { $id: 'urn:stead:api:tracked-service', ...trackedService } as const;
export type TrackedService = FromSchema<typeof trackedServiceSchema>;

export const serviceState = { enum: ['running', 'stopped', 'failed', 'restarting', 'unknown'], description: 'As the agent saw it.' } as const;

/** One row: a tracked service on one host. */
export const hostServiceRowSchema = {
  $id: 'urn:stead:api:host-service-row',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'name', 'state'],
  properties: {
    host: hostName,
    name: { type: 'string', description: 'The tracked service.' },
    kind: { enum: ['systemd', 'process'], description: 'How it is tracked.' },
    state: serviceState,
    pid: { type: ['integer', 'null'], description: 'Main pid (process: the oldest match).' },
    startedAt: { anyOf: [isoTime, { type: 'null' }], description: 'When the main process started; null when not running.' },
    checkedAt: isoTime,
    uptimeSeconds: { type: ['integer', 'null'], description: 'checkedAt − startedAt.' },
    user: { type: ['string', 'null'], description: 'The user it runs as.' },
    processes: { type: 'integer', minimum: 0, description: 'process: how many processes match.' },
    drift: { type: 'boolean', description: 'true: it stopped or failed without an operator asking (no stop/restart job targeted it since it was last seen running).' },
    lastAction: { type: 'object', additionalProperties: false, required: ['action', 'by', 'at'], description: 'The last start/stop/restart an operator asked for on this host.', properties: { action: { enum: ['start', 'stop', 'restart'], description: 'What was asked.' }, by: { type: 'string', description: 'Operator.' }, at: isoTime, job: { type: 'string', description: 'The job that did it.' } } },
  },
} as const;
export type HostServiceRow = FromSchema<typeof hostServiceRowSchema>;

export const serviceTableSchema = {
  $id: 'urn:stead:api:service-table',
  type: 'object',
  additionalProperties: false,
  required: ['services'],
  properties: {
    services: { type: 'array', items: { $ref: 'urn:stead:api:host-service-row' }, description: 'Rows sorted by host then name.' },
    tracked: { type: 'array', items: { $ref: 'urn:stead:api:tracked-service' }, description: 'The tracked services.' },
    total: { type: 'integer', minimum: 0, description: 'Rows matching, before paging.' },
    next: { type: 'string', description: 'Cursor for the next page (?after=).' },
  },
} as const;

export type ServiceTable = FromSchema<typeof serviceTableSchema, { references: [typeof hostServiceRowSchema, typeof trackedServiceSchema] }>;

/** POST /api/v1/software/services/:name/actions — start/stop/restart as an audited one-shot job (a rollout when batches are given). */
export const serviceActionRequestSchema = {
  $id: 'urn:stead:api:service-action-request',
  type: 'object',
  additionalProperties: false,
  required: ['action', 'targets'],
  properties: {
    action: { enum: ['start', 'stop', 'restart'], description: 'What to do.' },
    targets: { type: 'string', minLength: 1, maxLength: 4096, description: 'A target selector (hosts must track the service).' },
    policy: { $ref: 'urn:stead:api:rollout-policy', description: 'Deliver in batches (a job rollout); without it, one job on every target.' },
    includeInactive: { type: 'boolean', description: 'Also hosts whose lifecycle is not online.' },
  },
} as const;

export type ServiceActionRequest = FromSchema<typeof serviceActionRequestSchema, { references: [typeof rolloutPolicySchema] }>;

/** POST /api/v1/software/services/:name/{start,stop,restart} — the action comes from the path. */
export const serviceActionByPathSchema = {
  $id: 'urn:stead:api:service-action-by-path',
  type: 'object',
  additionalProperties: false,
  required: ['targets'],
  properties: {
    targets: serviceActionRequestSchema.properties.targets,
    policy: serviceActionRequestSchema.properties.policy,
    includeInactive: serviceActionRequestSchema.properties.includeInactive,
  },
} as const;

/** The answer of an upgrade or a service action: the job or the rollout it started. */
export const softwareActionResultSchema = {
  $id: 'urn:stead:api:software-action-result',
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    job: { type: 'string', description: 'The job id (no batches).' },
    rollout: { type: 'string', description: 'The rollout id (batches).' },
    hosts: { type: 'array', items: hostName, description: 'Targeted hosts.' },
  },
} as const;

export type SoftwareActionResult = FromSchema<typeof softwareActionResultSchema>;

/** GET /api/v1/software/hosts/:host — one host's tracked packages and services, and what its last report said. */
export const softwareHostSchema = {
  $id: 'urn:stead:api:software-host',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'packages', 'services'],
  properties: {
    host: hostName,
    reportedAt: { ...isoTime, description: 'When the last report arrived (absent: the host never reported).' },
    collectedAt: { ...isoTime, description: 'The agent clock of the last report.' },
    configVersion: { type: 'string', description: 'The tracking config the last report answered.' },
    packages: { type: 'array', items: { $ref: 'urn:stead:api:host-package-row' }, description: 'Tracked packages, by name.' },
    services: { type: 'array', items: { $ref: 'urn:stead:api:host-service-row' }, description: 'Tracked services, by name.' },
    virtuals: { type: 'array', items: { type: 'object' }, description: 'Virtual resources the host reported (libvirt, containers, collectors).' },
    errors: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['source', 'message'], properties: { source: { type: 'string', description: 'What failed.' }, message: { type: 'string', description: 'Why.' } } }, description: 'Sources that failed in the last report.' },
  },
} as const;

/** GET/PUT /api/v1/software/settings — how agents collect. */
export const softwareSettingsSchema = {
  $id: 'urn:stead:api:software-settings',
  type: 'object',
  additionalProperties: false,
  properties: {
    intervalSeconds: { type: 'integer', minimum: 10, maximum: 86400, description: 'How often agents collect (default 60).' },
    virtuals: { type: 'boolean', description: 'Agents look for libvirt domains and containers (default true).' },
  },
} as const;
export type SoftwareSettings = FromSchema<typeof softwareSettingsSchema>;

/** GET /api/v1/software/collectors (admin only: collectors run as root on every agent). */
export const collectorListSchema = {
  $id: 'urn:stead:api:collector-list',
  type: 'object',
  additionalProperties: false,
  required: ['collectors'],
  properties: {
    collectors: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['name', 'lang', 'source'], properties: { name: { type: 'string', description: 'Collector name.' }, lang: { type: 'string', description: 'shell or python.' }, source: { type: 'string', description: 'The script.' }, timeoutSeconds: { type: 'integer', description: 'Deadline.' }, description: { type: 'string', description: 'Free text.' }, updatedAt: isoTime, updatedBy: { type: 'string', description: 'Operator.' } } }, description: 'Collector scripts, by name.' },
  },
} as const;

/** GET /api/v1/software/services/tracked and …/packages/tracked: the tracking lists alone. */
export const trackedListSchema = {
  $id: 'urn:stead:api:tracked-list',
  type: 'object',
  additionalProperties: false,
  properties: {
    packages: { type: 'array', items: { $ref: 'urn:stead:api:tracked-package' }, description: 'Tracked packages.' },
    services: { type: 'array', items: { $ref: 'urn:stead:api:tracked-service' }, description: 'Tracked services.' },
  },
} as const;

// Referenced by $id above: the runtime fallback must know them.
registerSchemas([rolloutPolicySchema, trackedPackageSchema, hostPackageRowSchema, trackedServiceSchema, hostServiceRowSchema]);
