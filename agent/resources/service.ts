/**
 * The service resource: whether a service runs (`ensure`) and starts at boot (`enable`); both
 * unmanaged when absent. Refresh (notify/subscribe) restarts it. How is the provider's job:
 * systemd where it is PID 1, else the process provider (agent/providers/pick-service-provider.ts).
 */
import type { ServiceResource } from '../../schemas/resources/service.js';
import { detectServiceFacts, pickServiceProvider } from '../providers/pick-service-provider.js';
import type { ServiceProvider } from '../providers/types.js';
import type { Change, Problem, ResourceContext, ResourceImpl } from './resource.js';

/** What read() found. `enabled` is undefined when the provider has no boot-time notion (process). */
export interface ServiceActual {
  readonly provider: ServiceProvider['name'];
  readonly running: boolean;
  readonly enabled: boolean | undefined;
  readonly pids: readonly number[];
}

/** Contexts whose apply() just started the service: their refresh in the same run does not restart it again. */
const startedBy = new WeakSet<ResourceContext>();

async function provider(d: ServiceResource, ctx: ResourceContext): Promise<ServiceProvider> {
  const p = pickServiceProvider(await detectServiceFacts(d.provider, ctx));
  if (p instanceof Error) throw p;
  return p;
}

export const serviceResource = {
  type: 'service',

  validate(d): Problem[] {
    const problems: Problem[] = [];
    if (d.pattern !== undefined) {
      try {
        new RegExp(d.pattern);
      } catch (e) {
        problems.push({ path: '/pattern', message: `pattern is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    if (d.provider === 'process' && d.start === undefined && d.pattern === undefined && d.pidfile === undefined) {
      problems.push({ path: '/start', message: 'the process provider needs start (or pattern/pidfile to find an existing process)' });
    }
    if (d.provider === 'process' && d.ensure === 'running' && d.start === undefined) {
      problems.push({ path: '/start', message: 'ensure running with the process provider needs a start command' });
    }
    if (d.provider === 'process' && d.enable !== undefined) {
      problems.push({ path: '/enable', message: 'the process provider cannot start services at boot; remove enable or use systemd' });
    }
    return problems;
  },

  async read(d, ctx) {
    const p = await provider(d, ctx);
    const s = await p.status(d, ctx);
    if (d.enable !== undefined && !p.supportsEnable) ctx.log(`enable is not managed by the ${p.name} provider on this host`, { service: d.name });
    return { provider: p.name, running: s.running, enabled: s.enabled, pids: s.pids };
  },

  diff(d, actual): Change[] {
    const c: Change[] = [];
    const running = actual?.running ?? false;
    if (d.ensure !== undefined && (d.ensure === 'running') !== running) {
      // The contract: an ensure change comes alone; apply() converges enable with it.
      return [{ property: 'ensure', before: running ? 'running' : 'stopped', after: d.ensure }];
    }
    if (d.enable !== undefined && actual?.enabled !== undefined && d.enable !== actual.enabled) {
      c.push({ property: 'enable', before: actual.enabled, after: d.enable });
    }
    return c;
  },

  async apply({ desired, actual, changes }, ctx) {
    const p = await provider(desired, ctx);
    for (const c of changes) {
      if (c.property === 'ensure') {
        if (c.after === 'running') {
          await p.start(desired, ctx);
          startedBy.add(ctx);
        } else {
          await p.stop(desired, ctx);
        }
      }
    }
    // enable is converged here whether diff listed it or not (it is left out beside an ensure change).
    if (desired.enable !== undefined && p.supportsEnable && actual?.enabled !== desired.enable) {
      await p.setEnabled(desired, desired.enable, ctx);
    }
  },

  async refresh(d, ctx) {
    if (d.ensure === 'stopped') return;
    if (startedBy.has(ctx)) {
      ctx.log('not restarting: the service was started in this run', { service: d.name });
      return;
    }
    const p = await provider(d, ctx);
    const s = await p.status(d, ctx);
    if (s.running) {
      await p.restart(d, ctx);
      ctx.log('restarted', { service: d.name, provider: p.name });
    } else if (d.ensure === 'running') {
      await p.start(d, ctx);
      ctx.log('started on refresh', { service: d.name, provider: p.name });
    }
  },
} satisfies ResourceImpl<'service', ServiceActual>;
