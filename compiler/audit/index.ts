/**
 * The script safety audit (issue 9, ADR 0015): shell and Python scripts, and manifest exec
 * commands, checked on their parsed syntax against a rule set before anything runs.
 *
 * ```ts
 * const v = await auditScript({ lang: 'shell', source: 'rm -rf "$DIR/"*' });
 * // v.verdict === 'block'; v.findings[0].rule === 'rm-empty-var', line 1, column 1
 * ```
 */
export type { AuditFinding, AuditInput, AuditRuleInfo, AuditRuleSetting, AuditVerdict, ScriptLang } from './types.js';
export { auditRules, PARSE_ERROR_RULE } from './rules.js';
export { auditScript, auditScriptSync, closeAuditWorker, effectiveMode, precheck, type AuditOptions } from './audit-script.js';
export { AuditPool, type AuditPoolOptions } from './audit-pool.js';
export { defaultAuditLimits, type AuditLimits } from './limits.js';
