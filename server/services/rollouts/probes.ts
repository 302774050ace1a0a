/**
 * The health probes of a rollout batch (ADR 0017 §3), run by the server against each host:
 * TCP and HTTP through the job probe (server/services/jobs/probe.ts), or a saved script of the
 * library run on the server (server/services/jobs/local-run.ts) with STEAD_HOST and
 * STEAD_HOST_ADDRESS; exit 0 passes.
 */
import type { Clock } from '../../domain/clock.js';
import type { ScriptSource } from '../jobs/ports.js';
import { runLocal } from '../jobs/local-run.js';
import { runProbe } from '../jobs/probe.js';
import type { ProbeRunner } from './rollout-driver.js';

export function rolloutProbe(scripts: ScriptSource, clock: Clock): ProbeRunner {
  return async (p, host, signal) => {
    if (p.script !== undefined) {
      const s = await scripts.resolve(p.script);
      const r = await runLocal({ lang: s.lang, source: s.source, env: { STEAD_HOST: host.name, STEAD_HOST_ADDRESS: host.address } }, p.timeoutSeconds ?? 60, signal, clock);
      if (r.state === 'succeeded') return { ok: true, message: 'exit 0' };
      const tail = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0]?.slice(0, 200);
      return { ok: false, message: `${r.exitCode !== null ? `exit ${r.exitCode}` : (r.message ?? r.state)}${tail ? `: ${tail}` : ''}` };
    }
    return runProbe({ ...(p.tcp ? { tcp: p.tcp } : {}), ...(p.http ? { http: p.http } : {}), ...(p.timeoutSeconds !== undefined ? { timeoutSeconds: p.timeoutSeconds } : {}) }, host.address, signal);
  };
}
