/** Small shared schema fragments, spread into the schemas that use them. */

export const absolutePath = {
  type: 'string',
  pattern: '^/(?!.*(^|/)\\.\\.(/|$)).*$',
  minLength: 1,
  maxLength: 4096,
  description: 'An absolute path ("/etc/motd"); no ".." segments.',
  'x-hint': 'must be an absolute path starting with "/" and without ".." segments',
} as const;

export const fileMode = {
  type: 'string',
  pattern: '^0?[0-7]{3,4}$',
  description: 'Permission bits as a quoted octal string, e.g. "0644". A bare 0644 in YAML is the decimal number 644.',
  'x-hint': 'must be an octal mode written as a quoted string, e.g. "0644" (YAML reads a bare 0644 as the number 644)',
} as const;

export const sha256Ref = {
  type: 'string',
  pattern: '^sha256:[0-9a-f]{64}$',
  description: 'A content-addressed blob: "sha256:" and 64 lowercase hex digits.',
  'x-hint': 'must be "sha256:" followed by 64 lowercase hex digits',
} as const;

export const accountName = {
  type: 'string',
  pattern: '^[a-z_][a-z0-9_.-]{0,31}\\$?$',
  description: 'A POSIX user or group name.',
  'x-hint': 'must be a POSIX account name (lowercase letter or "_" first, then letters, digits, "_", ".", "-"; at most 32)',
} as const;

export const owner = { ...accountName, description: 'Owning user (name). Absent: not managed.' } as const;
export const group = { ...accountName, description: 'Owning group (name). Absent: not managed.' } as const;

export const resourceRef = {
  type: 'string',
  pattern: '^[a-z]+:.+$',
  description: 'Reference to another resource as "type:title", e.g. "package:nginx" or "file:/etc/motd".',
  'x-hint': 'must be a reference "type:title", e.g. "package:nginx"',
} as const;

export const refList = { type: 'array', items: resourceRef, description: 'References as "type:title".' } as const;

/** Metaparameters every resource type accepts (Puppet's metaparams). */
export const metaProperties = {
  require: { ...refList, description: 'Resources that must be applied before this one; if one fails, this one is skipped.' },
  before: { ...refList, description: 'Resources that must be applied after this one (the reverse of require).' },
  notify: { ...refList, description: 'Like before, and the targets are refreshed (a service restarts) when this resource changed.' },
  subscribe: { ...refList, description: 'Like require, and this resource is refreshed when one of them changed.' },
  sensitive: {
    description: 'true: redact every property of this resource from reports, diffs and logs; or the list of property names to redact.',
    anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string' } }],
    'x-hint': 'must be true, false or a list of property names',
  },
  timeout: { type: 'number', exclusiveMinimum: 0, maximum: 86400, description: 'Seconds this resource may take (read, apply and verify); default 300.' },
  tags: { type: 'array', items: { type: 'string' }, description: 'Free-form labels, for filtering runs and reports.' },
} as const;
