/**
 * The real step runners of the job core (ports.ts StepRunners): files steps prepared by
 * files-step.ts (templates through the live revision's compile worker), probes by probe.ts, and
 * local scripts by local-run.ts. Built by server/compose.ts only.
 */
import type { Clock } from '../../domain/clock.js';
import { prepareFiles } from './files-step.js';
import type { JobTemplateRenderer } from './job-templates.js';
import { runLocal } from './local-run.js';
import type { StepRunners } from './ports.js';
import { runProbe } from './probe.js';

export function realStepRunners(deps: { readonly templates: JobTemplateRenderer; readonly clock: Clock }): StepRunners {
  return {
    files: (step, host, ctx) => prepareFiles(step, { host, vars: { ...ctx.vars }, blobs: ctx.blobs, signal: ctx.signal, templates: deps.templates }),
    probe: (probe, address, signal) => runProbe(probe, address, signal),
    local: (script, timeoutSeconds, signal) => runLocal(script, timeoutSeconds, signal, deps.clock),
  };
}
