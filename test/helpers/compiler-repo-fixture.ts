/**
 * Manifest repositories for compiler tests: a small, complete repository as a file map, which
 * tests extend or break, written into a tap testdir and loaded with the real loader.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadRepository, type LoadRepositoryOptions } from '../../compiler/repo/load-repository.js';
import type { Repository } from '../../compiler/repo/repository.js';

export type RepoFiles = Record<string, string>;

/** A valid repository exercising every variable layer. Paths are repository-relative. */
export function baseRepoFiles(): RepoFiles {
  return {
    'stead.yaml': 'stead: 1\nname: fixture\n',
    'vars/global.yaml': ['level: global', 'region:', '  name: default', '  mongodb:', '    port: 27017', '    hosts: []', 'list: [g1, g2]', 'only_global: yes-global', ''].join('\n'),
    'inventory/hosts.yaml': [
      'hosts:',
      '  h1:',
      '    idc: sh',
      '    set: a',
      '    ip: 10.0.0.1',
      '    tags: [web]',
      '    vars:',
      '      level: host',
      '  h2:',
      '    idc: bj',
      '    set: b',
      '    ip: 10.0.0.2',
      '    tags: [web, canary]',
      '    attributes:',
      '      rack: r7',
      '  h3:',
      '    idc: sh',
      '',
    ].join('\n'),
    'groups/idc-sh.yaml': ['kind: idc', 'match:', '  - idc: sh', 'vars:', '  level: idc', '  region:', '    name: sh', '    mongodb:', '      hosts: [172.27.117.201]', ''].join('\n'),
    'groups/idc-bj.yaml': ['kind: idc', 'match:', '  - idc: bj', 'vars:', '  level: idc', '  region:', '    name: bj', ''].join('\n'),
    'groups/set-a.yaml': ['kind: set', 'match:', '  - set: a', 'vars:', '  level: set', '  list: [set-a]', ''].join('\n'),
    'groups/web.yaml': ['kind: custom', 'priority: 10', 'match:', '  - tags: web', 'roles: [app]', 'vars:', '  level: custom-10', '  app:', '    port: 9000', ''].join('\n'),
    'groups/low.yaml': ['kind: custom', 'priority: 1', 'hosts: [h1, h2]', 'vars:', '  level: custom-1', '  only_low: low', ''].join('\n'),
    'roles/app/role.yaml': [
      'description: the app',
      'parameters:',
      '  port:',
      '    type: integer',
      '    default: 8000',
      '  name:',
      '    type: string',
      '    default: shop',
      'resources:',
      '  - type: file',
      '    path: /etc/app.conf',
      '    template: app.conf.j2',
      '    mode: "0644"',
      '  - type: file',
      '    path: /etc/motd',
      '    content: "hello {{ inventory_hostname }} in {{ region.name }}\\n"',
      '',
    ].join('\n'),
    'templates/app.conf.j2': 'name={{ app.name }}\nport={{ app.port }}\nlevel={{ level }}\nmongo={{ region.mongodb.hosts | join(",") }}\n',
  };
}

/** Writes `files` under a fresh directory from `mkdir` (t.testdir()) and returns its path. */
export function writeRepo(dir: string, files: RepoFiles): string {
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

/** writeRepo + loadRepository. */
export async function loadFixture(dir: string, files: RepoFiles, opts: LoadRepositoryOptions = {}): Promise<Repository> {
  return loadRepository(writeRepo(dir, files), opts);
}

/** A new empty directory for each call (t.testdir() is one per test), removed at teardown. */
export function freshDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'stead-repo-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
