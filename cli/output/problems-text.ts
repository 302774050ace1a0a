/** Human output of manifest problems: one `file:line:column: path: message` line each, then a count. */
import { formatProblem, type LocatedProblem } from '../../compiler/manifest/manifest-problem.js';

export function formatProblems(problems: readonly LocatedProblem[]): string[] {
  return problems.map((p) => formatProblem(p));
}

/** "2 errors, 1 warning". */
export function problemCount(problems: readonly LocatedProblem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return warnings > 0 ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` : plural(errors, 'error');
}
