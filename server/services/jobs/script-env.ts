/**
 * How a script sees its inputs (docs/adr/0014-jobs.md, "Script inputs"):
 * - job vars: env STEAD_VAR_<KEY>, KEY upper-cased;
 * - key=value results of the host's earlier steps: env STEAD_RESULT_<KEY>, KEY upper-cased with
 *   every character other than A-Z, 0-9 and _ turned into _ (later steps win);
 * - script params: env <NAME> as given, and positional arguments ($1… / sys.argv[1:]) in the
 *   library script's declared order, or for inline scripts in the order the body gives them.
 */
export function envKey(prefix: string, key: string): string {
  return `${prefix}${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`.slice(0, 128);
}

export function varsEnv(vars: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) out[envKey('STEAD_VAR_', k)] = v;
  return out;
}

export function resultEnv(results: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(results).slice(0, 64)) out[envKey('STEAD_RESULT_', k)] = v;
  return out;
}
