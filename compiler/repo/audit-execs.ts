/**
 * The safety audit of manifest exec resources (issue 9, ADR 0015): the command, onlyif and
 * unless of every exec in every role are parsed as shell and checked against the audit rules.
 * A block-mode finding refuses the repository (an error located at the property, naming the
 * rule); scan-mode findings, and block findings the resource lists in `audit_allow`, are
 * warnings. Only exec resources are read, once per role (not per host): publishing stays fast.
 *
 * Template syntax in a command counts as a value that may be empty: `rm -rf {{ dir }}/` is
 * audited as `rm -rf ${T}/`.
 */
import type { RepoProblem } from '../../schemas/repo/problem.js';
import { auditScriptSync, type AuditFinding, type AuditRuleSetting } from '../audit/index.js';
import type { Repository } from './repository.js';

const PROPS = ['command', 'onlyif', 'unless'] as const;

/** Jinja expressions become a shell variable of the same length; statements and comments become spaces. */
export function maskTemplate(command: string): string {
  return command
    .replace(/\{\{[\s\S]*?\}\}/g, (m) => (m.includes('\n') ? m.replace(/[^\n]/g, ' ') : `\${T${'_'.repeat(Math.max(0, m.length - 4))}}`))
    .replace(/\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g, (m) => m.replace(/[^\n]/g, ' '));
}

export function auditExecs(repo: Pick<Repository, 'roles'>, settings: readonly AuditRuleSetting[] = []): RepoProblem[] {
  const problems: RepoProblem[] = [];
  for (const role of repo.roles.values()) {
    for (const s of role.manifest.resources) {
      if (!s.valid || s.resource.type !== 'exec') continue;
      const r = s.resource;
      const allow = new Set(r.audit_allow ?? []);
      for (const prop of PROPS) {
        const value = r[prop];
        if (typeof value !== 'string') continue;
        const verdict = auditScriptSync({ lang: 'shell', source: maskTemplate(value) }, settings);
        const loc = s.locate(`/${prop}`);
        for (const f of verdict.findings) problems.push(toProblem(f, prop, allow.has(f.rule), loc));
      }
    }
  }
  return problems;
}

function toProblem(f: AuditFinding, prop: string, allowed: boolean, loc: { file: string; line: number; column: number; path: string }): RepoProblem {
  const block = f.mode === 'block' && !allowed;
  const where = `line ${f.line}, column ${f.column} of ${prop}`;
  const why = block
    ? `; if this is intended, add audit_allow: [${f.rule}] to this exec`
    : allowed && f.mode === 'block'
      ? ' (allowed by audit_allow)'
      : ' (scan mode: allowed, logged)';
  return {
    code: block ? 'AUDIT_BLOCKED' : 'AUDIT_WARNING',
    severity: block ? 'error' : 'warning',
    file: loc.file,
    ...(loc.line > 0 ? { line: loc.line, column: loc.column } : {}),
    path: loc.path,
    message: `${prop}: safety audit rule ${f.rule}: ${f.message} (${where}: "${f.excerpt}")${why}`,
  };
}
