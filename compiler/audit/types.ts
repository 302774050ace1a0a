/** The shapes of the script safety audit (issue 9): what a caller passes and gets back. */

export type ScriptLang = 'shell' | 'python';

export type AuditMode = 'scan' | 'block';

/** One dangerous construct found, located in the ORIGINAL source (1-based line and column). */
export interface AuditFinding {
  rule: string;
  mode: AuditMode;
  line: number;
  column: number;
  message: string;
  /** The offending source line (trimmed, at most 200 characters). */
  excerpt: string;
}

export interface AuditVerdict {
  /** block: a block-mode finding or a parse error; warn: scan-mode findings only; pass: none. */
  verdict: 'pass' | 'warn' | 'block';
  findings: AuditFinding[];
  parseError?: { line: number; message: string };
}

/** An operator's choice for one rule; a rule not listed keeps its default mode. */
export interface AuditRuleSetting {
  rule: string;
  mode: AuditMode | 'off';
}

export interface AuditRuleInfo {
  id: string;
  description: string;
  defaultMode: AuditMode;
  langs: ScriptLang[];
}

export interface AuditInput {
  lang: ScriptLang;
  source: string;
}
