/**
 * The systemd service provider, used when systemd runs as PID 1 on the host (not under --root).
 *
 * Commands (argv arrays through ctx.host.exec, C locale; the unit name always after "--"):
 * - status:  `systemctl show --property=LoadState,ActiveState,UnitFileState,NeedDaemonReload -- NAME`
 * - start / stop / restart: `systemctl start|stop|restart -- NAME` (a `restart` command from the
 *   manifest replaces systemctl restart); `systemctl daemon-reload` first when systemd reports the
 *   unit file changed on disk (NeedDaemonReload=yes).
 * - enable / disable: `systemctl enable|disable -- NAME`
 * Running means ActiveState active, reloading or activating; enabled means the UnitFileState
 * values for which `systemctl is-enabled` exits 0.
 */
import type { ServiceResource } from '../../schemas/resources/service.js';
import type { ResourceContext } from '../resources/resource.js';
import { runCommand } from './run-command.js';
import { ProviderError, type ServiceProvider, type ServiceStatus } from './types.js';

const RUNNING = new Set(['active', 'reloading', 'activating']);
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'transient']);

/** Parses `systemctl show` KEY=VALUE lines. */
export function parseSystemctlShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return out;
}

async function show(d: ServiceResource, ctx: ResourceContext): Promise<Record<string, string>> {
  const r = await runCommand(ctx, 'systemctl', ['show', '--property=LoadState,ActiveState,UnitFileState,NeedDaemonReload', '--', d.name]);
  return parseSystemctlShow(r.stdout);
}

async function reloadIfNeeded(d: ServiceResource, ctx: ResourceContext): Promise<void> {
  const s = await show(d, ctx);
  if (s.LoadState === 'not-found') throw new ProviderError('NOT_FOUND', `systemd has no unit ${d.name}`);
  if (s.NeedDaemonReload === 'yes') await runCommand(ctx, 'systemctl', ['daemon-reload']);
}

export const systemdServiceProvider: ServiceProvider = {
  name: 'systemd',
  supportsEnable: true,

  async status(d, ctx): Promise<ServiceStatus> {
    const s = await show(d, ctx);
    return { running: RUNNING.has(s.ActiveState ?? ''), enabled: ENABLED.has(s.UnitFileState ?? ''), pids: [] };
  },

  async start(d, ctx) {
    await reloadIfNeeded(d, ctx);
    await runCommand(ctx, 'systemctl', ['start', '--', d.name]);
  },

  async stop(d, ctx) {
    await runCommand(ctx, 'systemctl', ['stop', '--', d.name]);
  },

  async restart(d, ctx) {
    if (d.restart !== undefined) {
      await runCommand(ctx, '/bin/sh', ['-c', d.restart], { operatorCommand: true, describe: `restart command of service ${d.name}` });
      return;
    }
    await reloadIfNeeded(d, ctx);
    await runCommand(ctx, 'systemctl', ['restart', '--', d.name]);
  },

  async setEnabled(d, enabled, ctx) {
    await runCommand(ctx, 'systemctl', [enabled ? 'enable' : 'disable', '--', d.name]);
  },
};
