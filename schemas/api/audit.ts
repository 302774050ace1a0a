import type { FromSchema } from 'json-schema-to-ts';

/** Rule ids: lowercase words joined by "-" (the catalogue is compiler/audit/rules.ts). */
const ruleId = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$', description: 'Rule id, e.g. "rm-root" (GET /api/v1/audit/rules lists them).' } as const;
const lang = { enum: ['shell', 'python'], description: 'Script language.' } as const;

/** POST /api/v1/audit/check */
export const auditCheckRequestSchema = {
  $id: 'urn:stead:api:audit-check-request',
  type: 'object',
  description: 'A script to audit; nothing runs.',
  additionalProperties: false,
  required: ['lang', 'source'],
  properties: {
    lang,
    source: { type: 'string', maxLength: 1048576, description: 'The script text (at most 1 MiB of UTF-8).' },
  },
} as const;
export type AuditCheckRequest = FromSchema<typeof auditCheckRequestSchema>;

const finding = {
  type: 'object',
  description: 'One dangerous construct, located in the script as given (1-based line and column).',
  additionalProperties: false,
  required: ['rule', 'mode', 'line', 'column', 'message', 'excerpt'],
  properties: {
    rule: ruleId,
    mode: { enum: ['scan', 'block'], description: 'scan: logged, allowed; block: refused unless an admin approves.' },
    line: { type: 'integer', minimum: 1, description: '1-based line.' },
    column: { type: 'integer', minimum: 1, description: '1-based column (UTF-16 units).' },
    message: { type: 'string', description: 'What was found.' },
    excerpt: { type: 'string', description: 'The offending source line, trimmed (at most 200 characters).' },
  },
} as const;

export const auditVerdictSchema = {
  $id: 'urn:stead:api:audit-verdict',
  type: 'object',
  description: 'The audit of one script: pass (nothing found), warn (scan-mode findings only) or block.',
  additionalProperties: false,
  required: ['verdict', 'findings'],
  properties: {
    verdict: { enum: ['pass', 'warn', 'block'], description: 'block when any finding is in block mode or the script does not parse.' },
    findings: { type: 'array', items: finding, description: 'Sorted by line and column.' },
    parseError: {
      type: 'object',
      description: 'Set when the script does not parse or exceeds the audit\'s bounds (rule parse-error, always block).',
      additionalProperties: false,
      required: ['line', 'message'],
      properties: { line: { type: 'integer', minimum: 1, description: '1-based line.' }, message: { type: 'string', description: 'Why.' } },
    },
  },
} as const;
export type AuditVerdictView = FromSchema<typeof auditVerdictSchema>;

const setting = {
  type: 'object',
  description: 'The mode of one rule.',
  additionalProperties: false,
  required: ['rule', 'mode'],
  properties: {
    rule: ruleId,
    mode: { enum: ['scan', 'block', 'off'], description: 'scan: logged, allowed; block: refused unless approved; off: not checked.' },
  },
} as const;

/** PUT /api/v1/audit/rules */
export const auditRulesUpdateSchema = {
  $id: 'urn:stead:api:audit-rules-update',
  type: 'object',
  description: 'The rule settings, replacing the stored ones as a whole: a rule not listed runs in its default mode.',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    rules: { type: 'array', maxItems: 200, items: setting, description: 'One entry per rule to set (parse-error cannot be set).' },
  },
} as const;
export type AuditRulesUpdate = FromSchema<typeof auditRulesUpdateSchema>;

/** GET and PUT /api/v1/audit/rules */
export const auditRulesViewSchema = {
  $id: 'urn:stead:api:audit-rules',
  type: 'object',
  description: 'Every rule with its effective mode.',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'description', 'defaultMode', 'mode', 'langs'],
        properties: {
          id: ruleId,
          description: { type: 'string', description: 'What the rule catches.' },
          defaultMode: { enum: ['scan', 'block'], description: 'The mode when no setting is stored.' },
          mode: { enum: ['scan', 'block', 'off'], description: 'The effective mode.' },
          langs: { type: 'array', items: lang, description: 'Languages the rule applies to.' },
        },
      },
      description: 'The rule catalogue in a fixed order.',
    },
    updatedBy: { type: 'string', description: 'Operator who last changed the settings.' },
    updatedAt: { type: 'string', format: 'date-time', description: 'When (RFC 3339 UTC).' },
  },
} as const;
export type AuditRulesView = FromSchema<typeof auditRulesViewSchema>;
