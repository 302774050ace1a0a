import type { FromSchema } from 'json-schema-to-ts';
import { inventoryHostName, roleName } from './names.js';

/**
 * One host as the operator records it. Everything here is operator-set ("trusted"): only these
 * attributes classify hosts into groups and so choose roles and secrets. Agent-reported facts
 * never appear here.
 */
export const inventoryHostSchema = {
  $id: 'urn:stead:repo:inventory-host',
  type: 'object',
  description: 'An inventory record: operator-set attributes of one host.',
  additionalProperties: false,
  properties: {
    idc: { type: 'string', minLength: 1, maxLength: 64, description: 'Data centre (IDC) the host sits in.' },
    set: { type: 'string', minLength: 1, maxLength: 64, description: 'Deployment set (BlueKing "set"): a slice of a service.' },
    env: { type: 'string', minLength: 1, maxLength: 64, description: 'Environment: prod, staging, dev, …' },
    ip: { type: 'string', minLength: 1, maxLength: 64, description: 'Management address.' },
    ips: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 64 }, description: 'Every address the inventory knows (the store\'s CMDB record sets this; ip is its first).' },
    rack: { type: 'string', minLength: 1, maxLength: 64, description: 'Rack.' },
    business: { type: 'string', minLength: 1, maxLength: 129, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})?$', description: 'Business line "product/module" (or "product").', 'x-hint': 'must be "product/module" or "product"' },
    kind: { enum: ['physical', 'mgmt-vm', 'vm', 'db-instance'], description: 'What the host is (ADR 0018).' },
    parent: { type: 'string', minLength: 1, maxLength: 253, description: 'The physical host a VM or DB instance runs on.' },
    lifecycle: { enum: ['deploying', 'standby', 'online', 'maintenance', 'faulty', 'retired'], description: 'Lifecycle state; absent means online. The store record (stead hosts set) wins over this.' },
    tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, description: 'Free-form labels for group rules.' },
    attributes: {
      type: 'object',
      description: 'Further operator-set attributes (strings, numbers, booleans) usable in group rules as attributes.<name>.',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    roles: { type: 'array', items: roleName, description: 'Roles for this host alone, after those of its groups.' },
    vars: { type: 'object', description: 'Host variables: above every group, below launch variables.' },
  },
} as const;
export type InventoryHost = FromSchema<typeof inventoryHostSchema>;

/** An `inventory/*.yaml` file: hosts by name. */
export const inventoryFileSchema = {
  $id: 'urn:stead:repo:inventory-file',
  type: 'object',
  description: 'inventory/<any>.yaml: a map of host name to inventory record.',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    hosts: {
      type: 'object',
      propertyNames: inventoryHostName,
      additionalProperties: { $ref: 'urn:stead:repo:inventory-host' },
      description: 'Hosts by name; an empty entry ("db-1:") is a host with no attributes.',
    },
  },
} as const;
