import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, accountName, metaProperties } from '../defs.js';

export const execResourceSchema = {
  $id: 'urn:stead:resource:exec',
  type: 'object',
  description: 'A command run when its guards say so (creates, onlyif, unless) or, with refreshonly, when notified. Output is captured in the report.',
  additionalProperties: false,
  required: ['type', 'command'],
  properties: {
    type: { const: 'exec', description: 'Resource type.' },
    name: { type: 'string', minLength: 1, description: 'Title; default: the command itself.' },
    command: { type: 'string', minLength: 1, description: 'Command line, run by /bin/sh -c.' },
    creates: { ...absolutePath, description: 'Skip the command when this path exists.' },
    onlyif: { type: 'string', minLength: 1, description: 'Run only when this command exits 0.' },
    unless: { type: 'string', minLength: 1, description: 'Run only when this command exits non-zero.' },
    refreshonly: { type: 'boolean', description: 'Run only when notified by a changed resource. Default false.' },
    user: { ...accountName, description: 'Run as this user (the agent must run as root).' },
    group: { ...accountName, description: 'Run with this group.' },
    cwd: { ...absolutePath, description: 'Working directory.' },
    environment: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra environment variables.' },
    returns: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 }, minItems: 1, description: 'Exit codes that mean success. Default [0].' },
    audit_allow: {
      type: 'array',
      items: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
      maxItems: 32,
      uniqueItems: true,
      description: 'Safety-audit rules (e.g. rm-root) whose block-mode findings in command, onlyif and unless are deliberately allowed: reported as warnings instead of refusing the repository. Read by validation only; the agent ignores it.',
    },
    ...metaProperties,
  },
} as const;
export type ExecResource = FromSchema<typeof execResourceSchema>;
