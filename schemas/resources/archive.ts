import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, group, metaProperties, owner } from '../defs.js';

export const archiveResourceSchema = {
  $id: 'urn:stead:resource:archive',
  type: 'object',
  description: 'A tar.gz or zip release unpacked into a directory; skipped when the archive checksum is the one last unpacked there. Unsafe entries (absolute paths, "..", devices, hard links, links leaving the directory, alone or through a chain of the archive\'s other links, link loops) are refused; setuid/setgid bits are cleared, except that a directory keeps its sticky and setgid bits (a 1777 directory stays 1777).',
  additionalProperties: false,
  required: ['type', 'path', 'source'],
  properties: {
    type: { const: 'archive', description: 'Resource type.' },
    path: { ...absolutePath, description: 'Directory to unpack into; also the title.' },
    source: { type: 'string', minLength: 1, description: 'The archive: "sha256:<hex>" or a path relative to the repository\'s files/ folder.' },
    format: { enum: ['tar.gz', 'tar', 'zip'], description: 'Archive format; default from the source name, else tar.gz.' },
    strip: { type: 'integer', minimum: 0, maximum: 16, description: 'Leading path components removed from every entry (like tar --strip-components). Default 0.' },
    ensure: { enum: ['present', 'absent'], description: 'present: unpacked; absent: the directory is removed. Default present.' },
    owner,
    group,
    clean: { type: 'boolean', description: 'Empty the directory before unpacking a new archive. Default false.' },
    ...metaProperties,
  },
} as const;
export type ArchiveResource = FromSchema<typeof archiveResourceSchema>;
