/**
 * Sizes V8's heap for the long-running process that runs the engine over a large catalog
 * (`stead agent`), so its memory stays flat over months of polls: two V8 settings made from inside the process, at
 * start, because V8 reads both each time it would grow a space (unlike `--max-semi-space-size`
 * or `--max-old-space-size`, which it reads only when the process starts, from the command line).
 *
 * - `--semi-space-growth-factor=1`: the young generation keeps its starting size (two 1-2 MiB
 *   semi-spaces). By default V8 doubles them, up to 16 MiB each, as soon as enough objects
 *   survive scavenges, which a run over a large catalog always makes happen (the plan and the
 *   run's statuses live for the whole run): ~30 MB of an agent's 100 MB budget at N = 10,000.
 * - `--heap-growing-percent=30`: after each full collection the old generation may grow by 30 %
 *   of what is live (at least V8's minimum step) before the next one, instead of V8's own factor
 *   (up to 4x for a process it judges idle-ish): the garbage a poll leaves is collected sooner.
 *
 * Measured at N = 10,000 (docs/benchmarks.md, "Agent memory"): peak RSS of a polling engine
 * process ~99 → ~91 MB for the second setting, ~130 → ~99 MB for the first; no-op run time
 * unchanged within noise for the second, a few per cent for the first.
 *
 * Not for a one-shot `stead apply` (docs/adr/0013): its compile allocates many short-lived
 * objects, and with the young generation held at its starting size it ran ~490 scavenges
 * instead of ~40 at N = 5,000; its process exits and returns the memory anyway.
 *
 * Contract: call as early as possible (cli/main.ts does, before the command's modules load).
 * A setting the operator chose on the node command line or in NODE_OPTIONS for the same space
 * wins, and STEAD_V8_HEAP=default leaves V8's defaults alone. Returns the flags applied.
 */
import v8 from 'node:v8';

const SETTINGS: readonly { readonly flag: string; readonly operatorChoice: RegExp }[] = [
  { flag: '--semi-space-growth-factor=1', operatorChoice: /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/ },
  { flag: '--heap-growing-percent=30', operatorChoice: /--heap-growing-percent\b/ },
];

/** Applies the settings above unless the operator chose otherwise; returns the flags applied. */
export function useFrugalHeap(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string[] {
  if (env['STEAD_V8_HEAP'] === 'default') return [];
  const chosen = [...execArgv, env['NODE_OPTIONS'] ?? ''];
  const applied: string[] = [];
  for (const s of SETTINGS) {
    if (chosen.some((a) => s.operatorChoice.test(a))) continue;
    v8.setFlagsFromString(s.flag);
    applied.push(s.flag);
  }
  return applied;
}

/** Bytes V8 has reserved for the young generation now (both semi-spaces). */
export function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}
