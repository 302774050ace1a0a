/** A host name as inventory and groups write it: a DNS label sequence, at most 253 bytes. */
export const inventoryHostName = {
  type: 'string',
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(\\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*$',
  minLength: 1,
  maxLength: 253,
  description: 'Host name: letters, digits, "-", "_" in dot-separated labels; at most 253 characters (the same rule as the API\'s hostName).',
  'x-hint': 'must be a host name (letters, digits, "-", "_" in dot-separated labels)',
} as const;

/** A group or role name: lowercase identifier usable in templates and CLI arguments. */
export const groupName = {
  type: 'string',
  pattern: '^[a-z][a-z0-9_-]{0,63}$',
  description: 'Lowercase letter first, then letters, digits, "_" or "-"; at most 64.',
  'x-hint': 'must be a lowercase name (letter first, then a-z, 0-9, "_", "-"; at most 64)',
} as const;

/** A role name: also the variable holding its parameters, so an identifier ("web", "shop_api"). */
export const roleName = {
  type: 'string',
  pattern: '^[a-z][a-z0-9_]{0,63}$',
  description: 'Lowercase letter first, then letters, digits or "_"; at most 64 (it names the parameter variable).',
  'x-hint': 'must be a lowercase identifier (letter first, then a-z, 0-9, "_"; at most 64): a role name is also a variable name',
} as const;
