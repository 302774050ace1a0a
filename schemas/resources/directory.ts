import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, fileMode, group, metaProperties, owner } from '../defs.js';

export const directoryResourceSchema = {
  $id: 'urn:stead:resource:directory',
  type: 'object',
  description: 'A directory, its mode and ownership; optionally everything below it.',
  additionalProperties: false,
  required: ['type', 'path'],
  properties: {
    type: { const: 'directory', description: 'Resource type.' },
    path: { ...absolutePath, description: 'Absolute path of the directory; also its title.' },
    ensure: { enum: ['present', 'absent'], description: 'Whether the directory exists. Default present. absent removes it only when empty unless force is set.' },
    mode: fileMode,
    owner,
    group,
    recurse: { type: 'boolean', description: 'Apply owner and group to everything below the directory too. Default false.' },
    purge: { type: 'boolean', description: 'Remove files below the directory that no resource in the catalog manages. Default false; needs recurse.' },
    force: { type: 'boolean', description: 'With ensure: absent, remove a non-empty directory and its content. Default false.' },
    ...metaProperties,
  },
} as const;
export type DirectoryResource = FromSchema<typeof directoryResourceSchema>;
