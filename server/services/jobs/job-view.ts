/**
 * Job views as the API answers them (schemas/api/jobs.ts: jobViewSchema, jobListSchema). The
 * top-level per-host state, exit code and output are those of the host's last script step that
 * ran (what `stead job run --wait --json` prints), else of its last dispatch.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { jobViewSchema, jobListSchema } from '../../../schemas/api/jobs.js';
import { isoAt } from '../../domain/clock.js';
import { resultsMap, serverHost, type DispatchDoc, type JobDoc } from './job-model.js';

export type JobViewOut = FromSchema<typeof jobViewSchema>;
export type JobSummaryView = FromSchema<typeof jobListSchema>['jobs'][number];

const notRun = new Set(['queued', 'skipped']);

export function jobSummary(j: JobDoc): JobSummaryView {
  return {
    id: j._id,
    name: j.name,
    state: j.state,
    createdBy: j.createdBy,
    createdAt: isoAt(j.createdAt),
    ...(j.finishedAt !== undefined ? { finishedAt: isoAt(j.finishedAt) } : {}),
    dryRun: j.dryRun,
    ...(j.redoOf !== undefined ? { redoOf: j.redoOf } : {}),
    ...(j.scheduleId !== undefined ? { scheduleId: j.scheduleId } : {}),
    targets: j.targets,
    hostCount: j.hosts.length,
    stepCount: j.steps.length,
  };
}

function messageOf(d: DispatchDoc): string | undefined {
  return d.message ?? d.result?.message;
}

export function jobView(j: JobDoc, dispatches: readonly DispatchDoc[], output: boolean): JobViewOut {
  const byHost = new Map<string, DispatchDoc[]>();
  const local = new Map<number, DispatchDoc>();
  for (const d of dispatches) {
    if (d.host === serverHost) local.set(d.step, d);
    else byHost.set(d.host, [...(byHost.get(d.host) ?? []), d]);
  }
  const steps = j.steps.map((s) => {
    const counts: Record<string, number> = {};
    for (const d of dispatches) if (d.step === s.index) counts[d.state] = (counts[d.state] ?? 0) + 1;
    const l = local.get(s.index);
    const msg = s.kind === 'confirm' ? s.message : s.note;
    return {
      index: s.index,
      name: s.name,
      kind: s.kind,
      ...(s.local ? { local: true } : {}),
      state: s.state,
      onFailure: s.onFailure,
      counts,
      ...(msg !== undefined ? { message: msg } : {}),
      ...(s.startedAt !== undefined ? { startedAt: isoAt(s.startedAt) } : {}),
      ...(s.finishedAt !== undefined ? { finishedAt: isoAt(s.finishedAt) } : {}),
      ...(s.confirmedBy !== undefined ? { confirmedBy: s.confirmedBy } : {}),
      ...(l
        ? {
            localRun: {
              state: l.state,
              exitCode: l.result?.exitCode ?? null,
              ...(output && l.result ? { stdout: l.result.stdout, stderr: l.result.stderr } : {}),
              ...(messageOf(l) !== undefined ? { message: messageOf(l)! } : {}),
            },
          }
        : {}),
    };
  });
  const hosts = [...byHost.entries()].map(([host, ds]) => {
    const ran = ds.filter((d) => !notRun.has(d.state));
    const main = [...ran].reverse().find((d) => d.kind === 'script') ?? ran[ran.length - 1] ?? ds[ds.length - 1]!;
    const r = main.result;
    const results = ds.reduce<Record<string, string> | undefined>((acc, d) => {
      const m = resultsMap(d.result);
      return m ? { ...(acc ?? {}), ...m } : acc;
    }, undefined);
    const files = [...ds].reverse().find((d) => d.result?.files)?.result?.files;
    const resources = [...ds].reverse().find((d) => d.result?.resources)?.result?.resources;
    const msg = messageOf(main);
    return {
      host,
      state: main.state,
      exitCode: r?.exitCode ?? null,
      ...(output && r ? { stdout: r.stdout, stderr: r.stderr, ...(r.stdoutTruncated ? { stdoutTruncated: true } : {}), ...(r.stderrTruncated ? { stderrTruncated: true } : {}) } : {}),
      ...(results ? { results } : {}),
      ...(files ? { files: files as unknown as Record<string, unknown>[] } : {}),
      ...(resources ? { resources: resources as unknown as Record<string, unknown>[] } : {}),
      ...(msg !== undefined ? { message: msg } : {}),
      steps: ds.map((d) => ({
        step: d.step,
        state: d.state,
        exitCode: d.result?.exitCode ?? null,
        ...(d.startedAt !== undefined ? { startedAt: isoAt(d.startedAt) } : {}),
        ...(d.finishedAt !== undefined ? { finishedAt: isoAt(d.finishedAt) } : {}),
        startAcks: d.startAcks,
        ...(messageOf(d) !== undefined ? { message: messageOf(d)! } : {}),
      })),
    };
  });
  hosts.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  return {
    id: j._id,
    name: j.name,
    state: j.state,
    createdBy: j.createdBy,
    createdAt: isoAt(j.createdAt),
    ...(j.finishedAt !== undefined ? { finishedAt: isoAt(j.finishedAt) } : {}),
    dryRun: j.dryRun,
    ...(j.redoOf !== undefined ? { redoOf: j.redoOf } : {}),
    ...(j.scheduleId !== undefined ? { scheduleId: j.scheduleId } : {}),
    targets: j.targets,
    vars: j.vars,
    unavailable: j.unavailable,
    steps,
    hosts,
  } as JobViewOut;
}
