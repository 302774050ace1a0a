/**
 * Keeps V8's young generation at its starting size in processes that run the engine over a
 * large catalog (`stead agent`, `stead apply`), so their memory stays flat.
 *
 * Why: V8 starts the young generation with two 1 MiB semi-spaces and doubles them, up to 16 MiB
 * each, whenever enough objects survive scavenges, which a run over a large catalog always
 * makes happen (the catalog's plan and the run's statuses live for the whole run). The 30 MB
 * that growth commits is a third of an agent's budget at N = 10,000 (docs/benchmarks.md,
 * "Agent memory"). `--max-semi-space-size` fixes the size, but only on the node command line;
 * the growth factor, which V8 reads each time it would grow the semi-spaces, can be set from
 * inside the process: with factor 1 a growth leaves the size unchanged.
 *
 * Contract: call it as early as possible (cli/main.ts does, before the command module loads);
 * it changes nothing when the operator chose a young-generation size on the command line
 * (`--max-semi-space-size`, `--semi-space-growth-factor`, in argv or NODE_OPTIONS), and it can be
 * turned off with STEAD_V8_YOUNG_GENERATION=default. Returns whether it applied the setting.
 * Cost: 3–12 % more time in the engine's no-op run (more, smaller scavenges).
 */
import v8 from 'node:v8';

const OPERATOR_CHOICE = /--(max-semi-space-size|semi-space-growth-factor|min-semi-space-size)\b/;

/** Sets `--semi-space-growth-factor=1` unless the operator chose otherwise (see the module comment). */
export function keepYoungGenerationSmall(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
  if (env['STEAD_V8_YOUNG_GENERATION'] === 'default') return false;
  if (execArgv.some((a) => OPERATOR_CHOICE.test(a)) || OPERATOR_CHOICE.test(env['NODE_OPTIONS'] ?? '')) return false;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}

/** Bytes V8 has reserved for the young generation now (both semi-spaces). */
export function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}
