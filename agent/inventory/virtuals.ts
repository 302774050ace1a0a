/**
 * Virtual resource collectors (ADR 0018 §5), run when the tracking config's `virtuals` is not false:
 *
 * - libvirt, only when `virsh` is on PATH: `virsh -c URI list --all --name`, then
 *   `virsh -c URI dominfo NAME` per domain (UUID, state, CPUs, memory, persistence);
 * - containers, only when the `docker` / `podman` client is on PATH:
 *   `CLIENT ps -a --no-trunc --format '{{json .}}'` (one JSON object per line). A client whose
 *   engine does not answer is an `errors` entry.
 *
 * Only stable fields become attributes (no CPU time, no "Up 3 minutes"), so an unchanged host
 * keeps an unchanged report digest.
 */
import { errorEntry, messageOf, runTool, ToolMissingError, type CollectEnv, type CollectorOutput, type InventoryCollector, type VirtualEntry } from './collector.js';

const MAX_DOMAINS = 500;
const MAX_CONTAINERS = 1000;

/** `virsh dominfo` "Key:   value" lines. */
export function parseDominfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

function str(v: string | undefined, max: number): string | undefined {
  return v === undefined || v === '' ? undefined : v.slice(0, max);
}

export function domainEntry(name: string, info: Map<string, string>): VirtualEntry {
  const attributes: Record<string, string | number | boolean> = {};
  const cpus = Number(info.get('CPU(s)'));
  if (Number.isInteger(cpus)) attributes.cpus = cpus;
  const mem = /^(\d+) KiB$/.exec(info.get('Max memory') ?? '');
  if (mem) attributes.maxMemoryKiB = Number(mem[1]);
  if (info.has('OS Type')) attributes.osType = info.get('OS Type')!.slice(0, 64);
  if (info.has('Persistent')) attributes.persistent = info.get('Persistent') === 'yes';
  if (info.has('Autostart')) attributes.autostart = info.get('Autostart') === 'enable';
  const id = str(info.get('UUID'), 128);
  const state = str(info.get('State'), 64);
  return { kind: 'vm', name: name.slice(0, 253), source: 'libvirt', ...(id ? { id } : {}), ...(state ? { state } : {}), attributes };
}

export const libvirtCollector: InventoryCollector = {
  source: 'libvirt',
  wanted: (config) => config.virtuals !== false,
  async collect(_config, env: CollectEnv): Promise<CollectorOutput> {
    const uri = env.libvirtUri;
    let names: string[];
    try {
      const r = await runTool(env, 'virsh', ['-c', uri, 'list', '--all', '--name'], { maxOutputBytes: 1024 * 1024 });
      names = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    } catch (err) {
      if (err instanceof ToolMissingError) return {}; // no libvirt on this host: nothing to report
      return { errors: [errorEntry('libvirt', messageOf(err))] };
    }
    const virtuals: VirtualEntry[] = [];
    const errors = [];
    if (names.length > MAX_DOMAINS) errors.push(errorEntry('libvirt', `${names.length} domains; only the first ${MAX_DOMAINS} are reported`));
    for (const name of names.slice(0, MAX_DOMAINS)) {
      try {
        const r = await runTool(env, 'virsh', ['-c', uri, 'dominfo', '--domain', name], { maxOutputBytes: 64 * 1024 });
        virtuals.push(domainEntry(name, parseDominfo(r.stdout)));
      } catch (err) {
        errors.push(errorEntry('libvirt', `${name}: ${messageOf(err)}`));
      }
    }
    return { virtuals, errors };
  },
};

/** One line of `ps --format '{{json .}}'` (docker: ID/Names string; podman: Id/Names array). */
export function containerEntry(source: 'docker' | 'podman', line: Record<string, unknown>): VirtualEntry | undefined {
  const get = (...keys: string[]): unknown => {
    for (const k of keys) if (line[k] !== undefined && line[k] !== null) return line[k];
    return undefined;
  };
  const rawNames = get('Names', 'names');
  const name = Array.isArray(rawNames) ? rawNames.find((n): n is string => typeof n === 'string') : typeof rawNames === 'string' ? rawNames.split(',')[0] : undefined;
  if (!name) return undefined;
  const id = get('ID', 'Id', 'id');
  const state = get('State', 'state');
  const attributes: Record<string, string | number | boolean> = {};
  const image = get('Image', 'image');
  if (typeof image === 'string') attributes.image = image.slice(0, 512);
  const created = get('CreatedAt', 'Created');
  if (typeof created === 'string' || typeof created === 'number') attributes.created = typeof created === 'string' ? created.slice(0, 64) : created;
  return { kind: 'container', name: name.slice(0, 253), source, ...(typeof id === 'string' && id ? { id: id.slice(0, 128) } : {}), ...(typeof state === 'string' && state ? { state: state.slice(0, 64) } : {}), attributes };
}

function containerCollector(client: 'docker' | 'podman'): InventoryCollector {
  return {
    source: client,
    wanted: (config) => config.virtuals !== false,
    async collect(_config, env): Promise<CollectorOutput> {
      let out: string;
      try {
        out = (await runTool(env, client, ['ps', '-a', '--no-trunc', '--format', '{{json .}}'], { maxOutputBytes: 8 * 1024 * 1024 })).stdout;
      } catch (err) {
        if (err instanceof ToolMissingError) return {}; // no client: no containers to report
        return { errors: [errorEntry(client, `the ${client} engine did not answer: ${messageOf(err)}`)] };
      }
      const virtuals: VirtualEntry[] = [];
      let bad = 0;
      for (const l of out.split('\n')) {
        if (l.trim() === '') continue;
        try {
          const e = containerEntry(client, JSON.parse(l) as Record<string, unknown>);
          if (e) virtuals.push(e);
          else bad++;
        } catch {
          bad++;
        }
        if (virtuals.length >= MAX_CONTAINERS) break;
      }
      return { virtuals, errors: bad > 0 ? [errorEntry(client, `${bad} lines of ${client} ps were not understood`)] : [] };
    },
  };
}

export const dockerCollector = containerCollector('docker');
export const podmanCollector = containerCollector('podman');
