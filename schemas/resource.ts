/**
 * The resource types of the manifest language, as one registry. Adding a type is one schema
 * file plus one line here; the mapped types below make a half-wired type a compile error.
 */
import { archiveResourceSchema, type ArchiveResource } from './resources/archive.js';
import { directoryResourceSchema, type DirectoryResource } from './resources/directory.js';
import { execResourceSchema, type ExecResource } from './resources/exec.js';
import { fileResourceSchema, type FileResource } from './resources/file.js';
import { groupResourceSchema, type GroupResource } from './resources/group.js';
import { linkResourceSchema, type LinkResource } from './resources/link.js';
import { packageResourceSchema, type PackageResource } from './resources/package.js';
import { serviceResourceSchema, type ServiceResource } from './resources/service.js';
import { userResourceSchema, type UserResource } from './resources/user.js';

export interface ResourceTypes {
  file: FileResource;
  directory: DirectoryResource;
  link: LinkResource;
  archive: ArchiveResource;
  package: PackageResource;
  service: ServiceResource;
  user: UserResource;
  group: GroupResource;
  exec: ExecResource;
}
export type ResourceType = keyof ResourceTypes;
export type Resource = ResourceTypes[ResourceType];
export type ResourceOf<K extends ResourceType> = ResourceTypes[K];

/** Every resource type's schema, by type name. */
export const resourceSchemas = {
  file: fileResourceSchema,
  directory: directoryResourceSchema,
  link: linkResourceSchema,
  archive: archiveResourceSchema,
  package: packageResourceSchema,
  service: serviceResourceSchema,
  user: userResourceSchema,
  group: groupResourceSchema,
  exec: execResourceSchema,
} as const satisfies { readonly [K in ResourceType]: { readonly $id: string; readonly properties: { readonly type: { readonly const: K } } } };

export const resourceTypes = Object.keys(resourceSchemas) as ResourceType[];

export function isResourceType(t: unknown): t is ResourceType {
  return typeof t === 'string' && Object.hasOwn(resourceSchemas, t);
}

/** The title of a resource: its path for filesystem types, name (or command for exec) otherwise. */
export function resourceTitle(r: Resource): string {
  switch (r.type) {
    case 'file':
    case 'directory':
    case 'link':
    case 'archive':
      return r.path;
    case 'exec':
      return r.name ?? r.command;
    case 'package':
    case 'service':
    case 'user':
    case 'group':
      return r.name;
    default:
      return r satisfies never;
  }
}

/** The identity "type:title", e.g. "file:/etc/motd". The only formatter of resource ids. */
export function resourceId(r: Resource): string {
  return `${r.type}:${resourceTitle(r)}`;
}

/** Splits "type:title" into its parts; undefined when it is not of that form. */
export function parseResourceRef(ref: string): { type: string; title: string } | undefined {
  const i = ref.indexOf(':');
  if (i <= 0 || i === ref.length - 1) return undefined;
  return { type: ref.slice(0, i), title: ref.slice(i + 1) };
}

/** Property names of a type whose values are always redacted (marked x-sensitive in the schema). */
export function sensitiveByDefault(type: ResourceType): string[] {
  const props = resourceSchemas[type].properties as Record<string, { 'x-sensitive'?: boolean }>;
  return Object.keys(props).filter((k) => props[k]?.['x-sensitive'] === true);
}
