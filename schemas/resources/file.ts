import type { FromSchema } from 'json-schema-to-ts';
import { absolutePath, fileMode, group, metaProperties, owner } from '../defs.js';

/**
 * A managed file as an operator writes it. Exactly one of content, source or template gives
 * the content; none of them manages only existence, mode and ownership.
 */
export const fileResourceSchema = {
  $id: 'urn:stead:resource:file',
  type: 'object',
  description: 'A file whose content, mode and ownership the agent keeps as declared. Written atomically (temp file, fsync, rename); the previous content is kept in a local backup.',
  additionalProperties: false,
  required: ['type', 'path'],
  properties: {
    type: { const: 'file', description: 'Resource type.' },
    path: { ...absolutePath, description: 'Absolute path of the file; also its title ("file:/etc/motd").' },
    ensure: { enum: ['present', 'absent'], description: 'Whether the file exists. Default present.' },
    content: { type: 'string', description: 'Full content. An inline string is a template too: rendered with the variables before use.' },
    source: {
      type: 'string',
      minLength: 1,
      description: 'Content from a blob: "sha256:<hex>", or a path relative to the manifest repository\'s files/ folder.',
    },
    template: { type: 'string', minLength: 1, description: 'Content rendered from this template, looked up in templates/ beside the manifest.' },
    vars: { type: 'object', description: 'Variables for this one rendering, on top of the host\'s variables.' },
    mode: fileMode,
    owner,
    group,
    backup: { type: 'boolean', description: 'Keep the replaced content in the local content-addressed backup (default true).' },
    ...metaProperties,
  },
} as const;
export type FileResource = FromSchema<typeof fileResourceSchema>;
