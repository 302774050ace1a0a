import type { FromSchema } from 'json-schema-to-ts';
import { inventoryHostName, roleName, groupName } from './names.js';

/**
 * A condition on one attribute: a scalar (equals; for a list attribute, contains), a list (any
 * of), or an operator map.
 */
export const matchConditionSchema = {
  $id: 'urn:stead:repo:match-condition',
  description: 'A scalar (equals / contains), a list (any of), or one of {in, notIn, regex, exists}.',
  anyOf: [
    { type: ['string', 'number', 'boolean'] },
    { type: 'array', items: { type: ['string', 'number', 'boolean'] }, minItems: 1 },
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        in: { type: 'array', items: { type: ['string', 'number', 'boolean'] }, minItems: 1, description: 'Holds when the value (or, for a list, one of its items) is one of these.' },
        notIn: { type: 'array', items: { type: ['string', 'number', 'boolean'] }, minItems: 1, description: 'Holds when the value (and every item of a list) is none of these; also when absent.' },
        regex: { type: 'string', minLength: 1, maxLength: 256, description: 'A regular expression (RE2 syntax: no lookahead or backreferences; matched in linear time) the value (or an item) must match; values over 1,024 characters never match.' },
        exists: { type: 'boolean', description: 'true: the attribute or fact is set; false: it is not.' },
      },
    },
  ],
  'x-hint': 'must be a value, a list of values, or one of {in: [...]}, {notIn: [...]}, {regex: "..."}, {exists: true|false}',
} as const;

/**
 * A dynamic membership rule: every condition must hold. Keys are inventory attributes (name,
 * idc, set, env, ip, tags, attributes.<k>); conditions on agent-reported facts go under `facts`,
 * which marks the rule — and its group — fact-based.
 */
export const matchRuleSchema = {
  $id: 'urn:stead:repo:match-rule',
  type: 'object',
  description: 'All conditions must hold. Keys: name, idc, set, env, ip, ips, rack, business, product, module, kind, parent, lifecycle, tags, attributes.<k>; facts: { <dotted.path>: condition } marks the rule fact-based.',
  minProperties: 1,
  propertyNames: { pattern: '^(name|idc|set|env|ip|ips|rack|business|product|module|kind|parent|lifecycle|tags|facts|attributes\\.[A-Za-z0-9_-]+)$', 'x-hint': 'must be name, idc, set, env, ip, ips, rack, business, product, module, kind, parent, lifecycle, tags, facts or attributes.<name>' },
  properties: {
    facts: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' },
      additionalProperties: { $ref: 'urn:stead:repo:match-condition' },
      description: 'Conditions on agent-reported facts by dotted path. Self-reported: see docs/manifest-repository.md.',
    },
  },
  additionalProperties: { $ref: 'urn:stead:repo:match-condition' },
} as const;

/** `groups/<name>.yaml`: one group, named after its file. */
export const groupSchema = {
  $id: 'urn:stead:repo:group',
  type: 'object',
  description: 'A group of hosts: who is in it, which roles it gives them, which variables.',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { enum: ['idc', 'set', 'custom'], description: 'Variable layer: idc < set < custom (then host).' },
    priority: { type: 'integer', minimum: -1000, maximum: 1000, description: 'Order inside the kind; higher wins. Default 0.' },
    description: { type: 'string', description: 'Free text.' },
    hosts: { type: 'array', items: inventoryHostName, description: 'Static members.' },
    children: { type: 'array', items: groupName, description: 'Groups whose members are members of this group too.' },
    match: { type: 'array', items: { $ref: 'urn:stead:repo:match-rule' }, description: 'Dynamic members: hosts matching any rule.' },
    roles: { type: 'array', items: roleName, description: 'Roles every member gets.' },
    vars: { type: 'object', description: 'Variables for members, at this group\'s layer.' },
  },
} as const;
export type MatchCondition = FromSchema<typeof matchConditionSchema>;
export type MatchRule = FromSchema<typeof matchRuleSchema, { references: [typeof matchConditionSchema] }>;
export type Group = FromSchema<typeof groupSchema, { references: [typeof matchRuleSchema, typeof matchConditionSchema] }>;
