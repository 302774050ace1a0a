/**
 * Agent ↔ server inventory protocol (ADR 0018): what the server asks an agent to track
 * (packages, services, collector scripts), and what the agent reports back.
 *
 *   GET /api/v1/hosts/:host/tracking        (signed; ETag / If-None-Match → 304)
 *   PUT /api/v1/hosts/:host/inventory       (signed; the whole current picture, idempotent)
 *
 * The agent fetches the tracking config at start and every `intervalSeconds` (and whenever a
 * poll answers with a new X-Stead-Tracking header value), collects, and PUTs a report when it
 * differs from the last accepted one (digest) or `intervalSeconds` × 10 passed (a heartbeat so
 * "checkedAt" stays fresh).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { isoTime } from './api/fragments.js';
import { registerSchemas } from './validate.js';
import { packageManager, serviceState, trackedService } from './api/software.js';
import { virtualResource } from './api/inventory.js';

/** An operator-defined collector script: prints JSON `{"resources":[virtual resources…]}` on stdout. */
export const collectorSchema = {
  $id: 'urn:stead:inventory:collector',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'lang', 'source'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'Collector name (reported as the source of what it finds).' },
    lang: { enum: ['shell', 'python'], description: 'shell runs /bin/sh, python runs python3.' },
    source: { type: 'string', minLength: 1, maxLength: 65536, description: 'The script. It must print {"resources":[{kind,name,id?,state?,attributes?}]} (at most 1 MiB, 1,000 resources).' },
    timeoutSeconds: { type: 'integer', minimum: 1, maximum: 300, description: 'Killed (process group) after this long; default 30.' },
    description: { type: 'string', maxLength: 1024, description: 'What it collects (free text).' },
  },
} as const;
export type Collector = FromSchema<typeof collectorSchema>;

/** GET /api/v1/hosts/:host/tracking */
export const trackingConfigSchema = {
  $id: 'urn:stead:inventory:tracking-config',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'intervalSeconds', 'packages', 'services', 'collectors'],
  properties: {
    version: { type: 'string', pattern: '^[0-9a-f]{16,64}$', description: 'Digest of this config (also the ETag).' },
    intervalSeconds: { type: 'integer', minimum: 10, maximum: 86400, description: 'How often to collect. Default 60.' },
    virtuals: { type: 'boolean', description: 'Look for libvirt domains (virsh) and containers (docker/podman). Default true.' },
    packages: {
      type: 'array',
      maxItems: 1000,
      description: 'Tracked packages to report.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'manager'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 128, description: 'Package name.' },
          manager: packageManager,
          path: { type: 'string', maxLength: 1024, description: 'artifact: absolute path.' },
          versions: { type: 'object', maxProperties: 256, propertyNames: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9.+~:_-]+$' }, additionalProperties: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'artifact: known versions by sha256 (the tracked package\'s `versions`), so the agent reports a label instead of "sha256:<first 12>".' },
        },
      },
    },
    services: { type: 'array', maxItems: 500, items: trackedService, description: 'Tracked services to report.' },
    collectors: { type: 'array', maxItems: 50, items: { $ref: 'urn:stead:inventory:collector' }, description: 'Operator collector scripts to run each interval.' },
  },
} as const;
export type TrackingConfig = FromSchema<typeof trackingConfigSchema, { references: [typeof collectorSchema] }>;

/** PUT /api/v1/hosts/:host/inventory */
export const agentInventoryReportSchema = {
  $id: 'urn:stead:inventory:report',
  type: 'object',
  additionalProperties: false,
  required: ['configVersion', 'collectedAt', 'packages', 'services', 'virtuals', 'errors'],
  properties: {
    configVersion: { type: 'string', maxLength: 64, description: 'The tracking config this report answers.' },
    collectedAt: { ...isoTime, description: 'Agent clock.' },
    packages: {
      type: 'array',
      maxItems: 1000,
      description: 'Every tracked package, installed or not.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'manager', 'version'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 128, description: 'Package name.' },
          manager: packageManager,
          version: { type: ['string', 'null'], maxLength: 128, description: 'null: not installed. artifact: the known version whose checksum matches, else "sha256:<first 12 hex>".' },
          arch: { type: 'string', maxLength: 32, description: 'Architecture (dpkg/rpm).' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'artifact: the measured checksum.' },
        },
      },
    },
    services: {
      type: 'array',
      maxItems: 500,
      description: 'Every tracked service.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'state'],
        properties: {
          name: { type: 'string', maxLength: 128, description: 'The tracked service name.' },
          state: serviceState,
          pid: { type: ['integer', 'null'], minimum: 0, description: 'Main pid (process: the oldest match); null when not running.' },
          startedAt: { anyOf: [isoTime, { type: 'null' }], description: 'From /proc/PID/stat start time and boot time (systemd: ExecMainStartTimestamp).' },
          user: { type: ['string', 'null'], maxLength: 64, description: 'The user the main process runs as.' },
          processes: { type: 'integer', minimum: 0, description: 'How many processes match (process kind) or are in the unit (systemd).' },
          message: { type: 'string', maxLength: 1024, description: 'e.g. systemd Result= when failed.' },
        },
      },
    },
    virtuals: { type: 'array', maxItems: 2000, items: virtualResource, description: 'Virtual resources found (libvirt, containers, collectors).' },
    errors: {
      type: 'array',
      maxItems: 100,
      items: { type: 'object', additionalProperties: false, required: ['source', 'message'], properties: { source: { type: 'string', maxLength: 128, description: 'dpkg, rpm, npm, pip, artifact:NAME, systemd, libvirt, docker, podman or collector:NAME.' }, message: { type: 'string', maxLength: 4096, description: 'What failed.' } } },
      description: 'Collectors or package managers that failed (the rest of the report still counts).',
    },
  },
} as const;
export type AgentInventoryReport = FromSchema<typeof agentInventoryReportSchema>;

export const inventoryAckSchema = {
  $id: 'urn:stead:inventory:ack',
  type: 'object',
  additionalProperties: false,
  required: ['accepted', 'configVersion'],
  properties: {
    accepted: { type: 'boolean', description: 'The report was stored.' },
    configVersion: { type: 'string', description: 'The current tracking config version: when it differs from the report\'s, refetch.' },
  },
} as const;

// Referenced by $id above: the runtime fallback must know it.
registerSchemas([collectorSchema]);
