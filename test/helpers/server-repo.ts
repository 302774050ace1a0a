/**
 * A small manifest repository for server tests (JSON upload form): three hosts in two groups,
 * one role with a template, an inline file and a files/ source.
 */
export interface SmallRepoOptions {
  /** app.port of the web group (default 8080). */
  readonly webPort?: number;
  /** Put a template syntax error in the role's template. */
  readonly templateError?: boolean;
  /** Extra text appended to the static file (to change the content of every host). */
  readonly staticSuffix?: string;
}

export function smallRepo(o: SmallRepoOptions = {}): Record<string, string> {
  return {
    'stead.yaml': 'stead: 1\nname: server-test\n',
    'inventory/hosts.yaml': [
      'hosts:',
      '  web-1:',
      '    tags: [web]',
      '  web-2:',
      '    tags: [web]',
      '  db-1:',
      '    tags: [db]',
      '',
    ].join('\n'),
    'groups/web.yaml': `kind: custom\npriority: 10\nmatch:\n  - tags: web\nroles: [app]\nvars:\n  app:\n    port: ${o.webPort ?? 8080}\n`,
    'groups/db.yaml': 'kind: custom\npriority: 10\nmatch:\n  - tags: db\nroles: [app]\n',
    'vars/global.yaml': 'app:\n  port: 8000\n  name: shop\n',
    'roles/app/role.yaml': [
      'resources:',
      '  - type: file',
      '    path: /srv/app/app.conf',
      '    template: app.conf.j2',
      '    mode: "0644"',
      '  - type: file',
      '    path: /srv/app/static.txt',
      `    content: "static${o.staticSuffix ?? ''}\\n"`,
      '  - type: file',
      '    path: /srv/app/robots.txt',
      '    source: robots.txt',
      '',
    ].join('\n'),
    'templates/app.conf.j2': o.templateError ? 'port={{ app.port \nname={% if %}\n' : 'port={{ app.port }}\nhost={{ inventory_hostname }}\n',
    'files/robots.txt': 'User-agent: *\nDisallow: /\n',
  };
}
