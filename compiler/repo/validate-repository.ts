/**
 * Validation of a whole repository: the load-time checks plus a compile of every host. A
 * repository with any error is refused as a whole; every error is listed, located.
 */
import type { RepoProblem } from '../../schemas/repo/problem.js';
import { compileHost, compileHostDespiteRepoErrors, hostVars } from '../compile.js';
import type { AuditRuleSetting } from '../audit/index.js';
import { auditExecs } from './audit-execs.js';
import { hasRepoErrors, normalizeProblems } from './repo-problem.js';
import type { Repository } from './repository.js';

export interface HostValidation {
  readonly host: string;
  /** The catalog id when the host compiled. */
  readonly catalogId?: string;
  readonly resources?: number;
  readonly errors: number;
}

export interface RepositoryValidation {
  readonly ok: boolean;
  readonly revision: string;
  /** Every problem, deduplicated (a problem met by several hosts is listed once) and sorted. */
  readonly problems: RepoProblem[];
  readonly hosts: HostValidation[];
}

export interface ValidateOptions {
  /** Facts to compile each host with (the server passes the last reported ones); default none. */
  readonly factsFor?: (host: string) => unknown;
  /** Safety-audit rule settings for exec commands; default: every rule in its default mode. */
  readonly auditSettings?: readonly AuditRuleSetting[];
}

export function validateRepository(repo: Repository, opts: ValidateOptions = {}): RepositoryValidation {
  // One pass: with load errors (an unknown role, a bad file) every host is still compiled with
  // what did load, so a template error is reported beside them, not after they are fixed.
  const loadErrors = hasRepoErrors(repo.problems);
  const problems: RepoProblem[] = [...repo.problems];
  const hosts: HostValidation[] = [];
  for (const name of repo.hosts.keys()) {
    let r: ReturnType<typeof compileHost>;
    try {
      r = loadErrors ? compileHostDespiteRepoErrors(repo, name, opts.factsFor?.(name) ?? {}) : compileHost(repo, name, opts.factsFor?.(name) ?? {});
    } catch (err) {
      // Only a repository that failed to load can get here (its shape was not checked): its
      // load errors are the report; this host is left uncompiled.
      if (!loadErrors) throw err;
      hosts.push({ host: name, errors: 0 });
      continue;
    }
    const own = r.problems.filter((p) => p.host === name);
    problems.push(...own);
    hosts.push({
      host: name,
      ...(r.catalog && !loadErrors ? { catalogId: r.catalog.id, resources: r.catalog.resources.length } : {}),
      errors: own.filter((p) => p.severity === 'error').length,
    });
  }
  const used = new Set<string>();
  if (!loadErrors) for (const name of repo.hosts.keys()) for (const r of hostRoles(repo, name)) used.add(r);
  for (const role of loadErrors ? [] : repo.roles.values()) {
    if (!used.has(role.name)) problems.push({ code: 'ROLE_UNUSED', severity: 'warning', file: role.file, path: '', message: `role ${role.name} is given to no host, so its templates were not rendered by this validation` });
  }
  // The safety audit of exec commands (ADR 0015): once per role, whatever the load errors.
  problems.push(...auditExecs(repo, opts.auditSettings));
  const merged = dedupeAcrossHosts(problems);
  return { ok: !hasRepoErrors(merged), revision: repo.revision, problems: merged, hosts };
}

/** A problem found identically for several hosts (a template error in a shared role) is listed once, naming the first host. */
function dedupeAcrossHosts(problems: readonly RepoProblem[]): RepoProblem[] {
  const seen = new Set<string>();
  const out: RepoProblem[] = [];
  for (const p of normalizeProblems(problems)) {
    const k = `${p.file}\u0000${p.line ?? 0}\u0000${p.column ?? 0}\u0000${p.code}\u0000${p.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}

function hostRoles(repo: Repository, host: string): readonly string[] {
  return hostVars(repo, host)?.roles ?? [];
}
