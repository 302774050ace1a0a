/**
 * The peers the apply benches measure against: cf-agent and puppet apply, each given the same
 * state as our manifest (directories 0755, files 0644 copied from `<work>/expected/<path>`, links)
 * under its own root in `work`. Each function writes the peer's policy and returns its command.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The state both peers enforce: absolute paths, as in the bench layouts. */
export interface PeerLayout {
  readonly dirs: readonly string[];
  readonly files: readonly { readonly path: string }[];
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

/** A peer's command line; `ok` holds the exit codes that mean success. */
export interface Peer {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly ok: ReadonlySet<number>;
}

export function cfAgentPeer(work: string, l: PeerLayout): Peer {
  const root = join(work, 'cf-root');
  mkdirSync(root, { recursive: true });
  const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
  const lines = ['body common control { bundlesequence => { "main" }; }', 'body copy_from cp(from) { source => "$(from)"; compare => "digest"; }', 'body perms m(mode) { mode => "$(mode)"; }', 'body link_from ln(to) { source => "$(to)"; link_type => "symlink"; when_no_source => "force"; }', 'bundle agent main {', 'files:'];
  for (const d of l.dirs) lines.push(`  ${q(`${root}${d}/.`)} create => "true", perms => m("0755");`);
  for (const f of l.files) lines.push(`  ${q(root + f.path)} copy_from => cp(${q(join(work, 'expected', f.path))}), perms => m("0644");`);
  for (const k of l.links) lines.push(`  ${q(root + k.path)} link_from => ln(${q(k.target)});`);
  lines.push('}');
  const cf = join(work, 'policy.cf');
  writeFileSync(cf, `${lines.join('\n')}\n`, { mode: 0o600 });
  return { name: 'cf-agent', cmd: 'cf-agent', args: ['-K', '-f', cf], ok: new Set([0]) };
}

export function puppetPeer(work: string, l: PeerLayout): Peer {
  const root = join(work, 'puppet-root');
  mkdirSync(root, { recursive: true });
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines: string[] = [];
  for (const d of l.dirs) lines.push(`file { ${q(root + d)}: ensure => directory, mode => '0755' }`);
  for (const f of l.files) lines.push(`file { ${q(root + f.path)}: ensure => file, mode => '0644', content => file(${q(join(work, 'expected', f.path))}) }`);
  for (const k of l.links) lines.push(`file { ${q(root + k.path)}: ensure => link, target => ${q(k.target)} }`);
  const pp = join(work, 'site.pp');
  writeFileSync(pp, `${lines.join('\n')}\n`);
  const p = join(work, 'puppet');
  return { name: 'puppet apply', cmd: 'puppet', args: ['apply', '--confdir', join(p, 'conf'), '--vardir', join(p, 'var'), '--logdir', join(p, 'log'), '--rundir', join(p, 'run'), '--codedir', join(p, 'code'), '--detailed-exitcodes', pp], ok: new Set([0, 2]) };
}
