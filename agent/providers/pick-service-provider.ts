/** Choosing the service provider: a pure decision over facts, plus the one probe that gathers them. */
import type { ResourceContext } from '../resources/resource.js';
import { processServiceProvider } from './process-service.js';
import { systemdServiceProvider } from './systemd.js';
import { ProviderError, type ServiceProvider } from './types.js';

export interface ServiceFacts {
  /** The provider the manifest names, if any. */
  readonly requested: 'systemd' | 'process' | undefined;
  /** The Host is confined under a root other than "/". */
  readonly confined: boolean;
  /** systemd is PID 1 (/run/systemd/system is a directory, as sd_booted(3) checks). */
  readonly systemdBooted: boolean;
}

/** Pure: the provider for these facts, or why there is none. `providers` is injectable for tests. */
export function pickServiceProvider(
  facts: ServiceFacts,
  providers: { readonly systemd: ServiceProvider; readonly process: ServiceProvider } = { systemd: systemdServiceProvider, process: processServiceProvider },
): ServiceProvider | ProviderError {
  if (facts.requested === 'process') return providers.process;
  if (facts.requested === 'systemd') {
    if (facts.confined) return new ProviderError('UNSUPPORTED', 'provider systemd cannot run confined under --root: systemd manages the real host');
    if (!facts.systemdBooted) return new ProviderError('NO_PROVIDER', 'provider systemd was requested but systemd is not running on this host (no /run/systemd/system)');
    return providers.systemd;
  }
  return !facts.confined && facts.systemdBooted ? providers.systemd : providers.process;
}

/** Gathers ServiceFacts: one lstat, only when not confined (under a root the answer is "process" anyway). */
export async function detectServiceFacts(requested: ServiceFacts['requested'], ctx: ResourceContext): Promise<ServiceFacts> {
  const confined = ctx.host.root !== '/';
  const systemdBooted = !confined && (await ctx.host.lstat('/run/systemd/system'))?.kind === 'directory';
  return { requested, confined, systemdBooted };
}
