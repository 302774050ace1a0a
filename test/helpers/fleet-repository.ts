/**
 * The manifest repository `npm run bench:fleet` publishes (test/bench/fleet-bench.ts): n hosts
 * in four roles by tag (web 60 %, cache 15 %, batch 15 %, db 10 %), every host with a base role
 * (directories, a per-host motd template, static files from files/, a link) and its role's
 * configuration (a template fed from group vars, static files, directories): 11–13 filesystem
 * resources per host, the size of a small real deployment's per-host state. Filesystem types
 * only, so the agent's own engine can produce real reports for them in a temp root.
 * Pure: builds the file map, writes nothing.
 */

/** The roles, in the order hosts are dealt to them, with their share of 20 hosts. */
const ROLES = [
  { role: 'web', share: 12 },
  { role: 'cache', share: 3 },
  { role: 'batch', share: 3 },
  { role: 'db', share: 2 },
] as const;

export type FleetRole = (typeof ROLES)[number]['role'];

/** The name of host i: fleet-000000 … */
export function fleetHost(i: number): string {
  return `fleet-${String(i).padStart(6, '0')}`;
}

/** The role of host i (deterministic: 12 of every 20 hosts are web, 3 cache, 3 batch, 2 db). */
export function fleetRole(i: number): FleetRole {
  let k = i % 20;
  for (const r of ROLES) {
    if (k < r.share) return r.role;
    k -= r.share;
  }
  return 'web';
}

/**
 * The repository as relative path → content. `generation` changes what the publish-burst
 * phase republishes: generation 0 is the first revision; a later generation changes only the db
 * role's pool size (10 % of hosts get a new catalog) and the repository description (a new
 * revision for everyone), the shape of most real publishes.
 */
export function fleetRepository(n: number, generation = 0): Record<string, string> {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`fleetRepository: n must be a positive integer, got ${n}`);
  const files: Record<string, string> = {
    'stead.yaml': `stead: 1\nname: fleet\ndescription: bench:fleet generation ${generation}\n`,
    'vars/global.yaml': 'ntp_servers: [ntp1.example.net, ntp2.example.net]\nadmin_email: ops@example.net\n',
    'groups/everyone.yaml': 'description: every host\nkind: custom\npriority: 1\nmatch:\n  - tags: web\n  - tags: cache\n  - tags: batch\n  - tags: db\nroles: [base]\n',
    'templates/motd.j2': 'Welcome to {{ inventory_hostname }}\nManaged by Stead; contact {{ admin_email }}.\n',
    'templates/ntp.conf.j2': '{% for s in ntp_servers %}server {{ s }} iburst\n{% endfor %}driftfile /var/lib/ntp/drift\n',
    'files/base/sysctl.conf': 'net.core.somaxconn = 4096\nvm.swappiness = 10\nfs.file-max = 2097152\n',
    'files/base/limits.conf': '* soft nofile 65536\n* hard nofile 65536\n',
    'roles/base/role.yaml': [
      'description: what every host carries',
      'resources:',
      '  - { type: directory, path: /etc/fleet, mode: "0755" }',
      '  - { type: directory, path: /etc/fleet/conf.d, mode: "0755" }',
      '  - { type: file, path: /etc/motd, template: motd.j2, mode: "0644" }',
      '  - { type: file, path: /etc/fleet/ntp.conf, template: ntp.conf.j2, mode: "0644" }',
      '  - { type: file, path: /etc/fleet/sysctl.conf, source: base/sysctl.conf, mode: "0644" }',
      '  - { type: file, path: /etc/fleet/limits.conf, source: base/limits.conf, mode: "0644" }',
      '  - { type: link, path: /etc/fleet/current, target: conf.d }',
      '',
    ].join('\n'),
  };
  // 1,000 hosts per inventory file: the YAML parser's duplicate-key check is quadratic in a
  // mapping's size (one file of 100,000 hosts took minutes to parse; docs/operations.md).
  for (let f = 0; f * 1000 < n; f++) {
    const lines: string[] = ['hosts:'];
    for (let i = f * 1000; i < Math.min(n, (f + 1) * 1000); i++) lines.push(`  ${fleetHost(i)}: { tags: [${fleetRole(i)}] }`);
    files[`inventory/hosts-${String(f).padStart(4, '0')}.yaml`] = `${lines.join('\n')}\n`;
  }
  const roleVars: Record<FleetRole, string> = {
    web: 'port: 8080\nworkers: 8\nupstream: app.internal:9000',
    cache: 'port: 6379\nworkers: 2\nupstream: none',
    batch: 'port: 9100\nworkers: 16\nupstream: queue.internal:5672',
    db: `port: 5432\nworkers: ${generation === 0 ? 100 : 100 + generation}\nupstream: none`,
  };
  for (const { role } of ROLES) {
    files[`groups/${role}.yaml`] = `description: ${role} hosts\nkind: custom\npriority: 10\nmatch:\n  - tags: ${role}\nroles: [${role}]\nvars:\n  svc:\n${roleVars[role].split('\n').map((l) => `    ${l}`).join('\n')}\n`;
    files[`templates/${role}.conf.j2`] = `# {{ inventory_hostname }} (${role})\nlisten = 0.0.0.0:{{ svc.port }}\nworkers = {{ svc.workers }}\nupstream = {{ svc.upstream }}\n`;
    files[`files/${role}/logrotate`] = `/var/log/${role}/*.log {\n  daily\n  rotate 14\n  compress\n}\n`;
    files[`files/${role}/env`] = `ROLE=${role}\nLOG_LEVEL=info\n`;
    files[`roles/${role}/role.yaml`] = [
      `description: the ${role} service's configuration`,
      'resources:',
      `  - { type: directory, path: /etc/${role}, mode: "0755" }`,
      `  - { type: directory, path: /var/lib/${role}, mode: "0750" }`,
      `  - { type: file, path: /etc/${role}/${role}.conf, template: ${role}.conf.j2, mode: "0644" }`,
      `  - { type: file, path: /etc/${role}/env, source: ${role}/env, mode: "0640" }`,
      `  - { type: file, path: /etc/fleet/conf.d/${role}-logrotate, source: ${role}/logrotate, mode: "0644" }`,
      '',
    ].join('\n');
  }
  return files;
}
