/**
 * The entry point of the audit: bounds, parse, rules, then the operator's rule settings turn
 * raw findings into a verdict. The work is synchronous (both parsers are plain JavaScript), so
 * the repository validation can call it directly; auditScript is the async face for callers.
 */
import { AuditPool } from './audit-pool.js';
import { AuditContext, type Frame } from './context.js';
import { AuditLimitError, defaultAuditLimits, type AuditLimits } from './limits.js';
import { auditPython, PythonParseError } from './python/audit-python.js';
import { PARSE_ERROR_RULE, defaultModeOf, ruleIds } from './rules.js';
import { auditShell } from './shell/audit-shell.js';
import { ShellParseError } from './shell/syntax.js';
import type { AuditFinding, AuditInput, AuditRuleSetting, AuditVerdict } from './types.js';

export interface AuditOptions {
  readonly limits?: Partial<AuditLimits>;
  /** Milliseconds clock for the time budget (tests). */
  readonly now?: () => number;
}

export function auditScriptSync(input: AuditInput, settings: readonly AuditRuleSetting[] = [], opts: AuditOptions = {}): AuditVerdict {
  const limits: AuditLimits = { ...defaultAuditLimits, ...opts.limits };
  const early = precheck(input, limits);
  if (early) return early;

  const ctx = new AuditContext(input.source, limits, opts.now);
  ctx.nested = (lang, frame) => (lang === 'shell' ? auditShell(ctx, frame) : auditPython(ctx, frame));
  const top: Frame = { text: input.source, base: 0, anchor: 0, nesting: 0 };
  try {
    ctx.nested(input.lang, top);
  } catch (err) {
    if (err instanceof ShellParseError || err instanceof PythonParseError || err instanceof AuditLimitError) {
      const index = err instanceof AuditLimitError ? err.index : err.offset;
      const { line } = ctx.position(index);
      return refuse({ line, message: err instanceof AuditLimitError ? err.message : `${input.lang === 'shell' ? 'shell' : 'Python'} syntax error: ${err.message}` }, ctx.excerpt(index), ctx.position(index).column);
    }
    if (err instanceof RangeError) return refuse({ line: 1, message: 'the script nests too deeply to audit' });
    throw err;
  }
  return verdictOf(ctx, settings);
}

/** The checks made before any parsing: the language, the type and the size of the source. */
export function precheck(input: AuditInput, limits: AuditLimits = defaultAuditLimits): AuditVerdict | undefined {
  if (input.lang !== 'shell' && input.lang !== 'python') return refuse({ line: 1, message: `unknown script language "${String(input.lang)}"` });
  if (typeof input.source !== 'string') return refuse({ line: 1, message: 'the script source must be a string' });
  const bytes = Buffer.byteLength(input.source, 'utf8');
  if (bytes > limits.maxSourceBytes) return refuse({ line: 1, message: `the script is ${bytes} bytes; the audit reads at most ${limits.maxSourceBytes}` });
  return undefined;
}

let pool: AuditPool | undefined;

/**
 * Audits a script in the audit worker thread (audit-pool.ts), under a hard time limit: the
 * caller's event loop never runs the parser. Never rejects for a bad script: a script that
 * cannot be audited is a block verdict.
 */
export function auditScript(input: AuditInput, settings: readonly AuditRuleSetting[] = []): Promise<AuditVerdict> {
  const early = precheck(input);
  if (early) return Promise.resolve(early);
  pool ??= new AuditPool();
  return pool.audit({ lang: input.lang, source: input.source }, settings);
}

/** Stops the shared audit worker (it is unref'd while idle, so this is only for tidy shutdowns). */
export async function closeAuditWorker(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}

/** The mode a rule runs in under `settings` (the last setting for a rule wins; parse-error is always block). */
export function effectiveMode(rule: string, settings: readonly AuditRuleSetting[]): AuditRuleSetting['mode'] {
  if (rule === PARSE_ERROR_RULE) return 'block';
  let mode: AuditRuleSetting['mode'] = defaultModeOf(rule);
  for (const s of settings) if (s.rule === rule) mode = s.mode;
  return mode;
}

function verdictOf(ctx: AuditContext, settings: readonly AuditRuleSetting[]): AuditVerdict {
  const findings: AuditFinding[] = [];
  for (const f of ctx.findings) {
    const mode = ruleIds.has(f.rule) ? effectiveMode(f.rule, settings) : 'block';
    if (mode === 'off') continue;
    const { line, column } = ctx.position(f.index);
    findings.push({ rule: f.rule, mode, line, column, message: f.message, excerpt: ctx.excerpt(f.index) });
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
  const verdict = findings.some((f) => f.mode === 'block') ? 'block' : findings.length > 0 ? 'warn' : 'pass';
  return { verdict, findings };
}

function refuse(parseError: { line: number; message: string }, excerpt = '', column = 1): AuditVerdict {
  return {
    verdict: 'block',
    findings: [{ rule: PARSE_ERROR_RULE, mode: 'block', line: parseError.line, column, message: parseError.message, excerpt }],
    parseError,
  };
}
