/**
 * Every resource type's implementation, by type name. The Registry type makes a missing type a
 * compile error; adding a type is one line here.
 */
import type { Registry } from './resource.js';
import { archive } from './archive.js';
import { directory } from './directory.js';
import { exec } from './exec.js';
import { file } from './file.js';
import { groupResource } from './group.js';
import { link } from './link.js';
import { packageResource } from './package.js';
import { serviceResource } from './service.js';
import { userResource } from './user.js';

export const registry: Registry = {
  file,
  directory,
  link,
  archive,
  exec,
  package: packageResource,
  service: serviceResource,
  user: userResource,
  group: groupResource,
};
