/**
 * The script safety audit on the server (issue 9): checks a script against the rule set with the
 * operators' rule settings, and keeps those settings in the store (collection `audit_rules`, one
 * document; no document means every rule in its default mode). The audit itself runs in the
 * compiler's audit worker (compiler/audit/audit-pool.ts), never on the event loop.
 */
import { auditRules, auditScript, effectiveMode, PARSE_ERROR_RULE, type AuditRuleSetting, type AuditVerdict, type ScriptLang } from '../../compiler/audit/index.js';
import type { Clock } from '../domain/clock.js';
import { actorName, byFields, type ActorLike, type AuditLog } from './audit-log.js';
import { ApiError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { Collection, DocumentStore } from '../store/types.js';

type RulesDoc = { _id: 'settings'; settings: AuditRuleSetting[]; updatedBy: string; updatedAtMs: number };

export interface AuditRuleView {
  id: string;
  description: string;
  defaultMode: 'scan' | 'block';
  mode: AuditRuleSetting['mode'];
  langs: ScriptLang[];
}

export interface AuditRulesState {
  rules: AuditRuleView[];
  updatedBy?: string;
  updatedAtMs?: number;
}

export class AuditService {
  private constructor(
    private readonly docs: Collection<RulesDoc>,
    private readonly clock: Clock,
    private readonly log: Logger | undefined,
  ) {}

  static async open(store: DocumentStore, clock: Clock, log?: Logger): Promise<AuditService> {
    return new AuditService(await store.collection<RulesDoc>('audit_rules', []), clock, log);
  }

  /** Audits a script with the stored rule settings. */
  async check(input: { lang: ScriptLang; source: string }): Promise<AuditVerdict> {
    return auditScript(input, await this.rules());
  }

  /** The effective setting of every rule (stored, or the default). */
  async rules(): Promise<AuditRuleSetting[]> {
    const stored = await this.stored();
    return auditRules.map((r) => ({ rule: r.id, mode: effectiveMode(r.id, stored?.settings ?? []) }));
  }

  /** The rule catalogue with effective modes and who last changed them. */
  async view(): Promise<AuditRulesState> {
    return this.viewOf(await this.stored());
  }

  /**
   * Replaces the stored settings (a rule not listed runs in its default mode). Unknown rules and
   * parse-error are refused. Logged with the operator's name.
   */
  #auditLog: AuditLog | undefined;

  /** Rule changes are recorded in the audit log from now on. */
  setAuditLog(log: AuditLog): void {
    this.#auditLog = log;
  }

  async setRules(settings: readonly AuditRuleSetting[], actor: ActorLike): Promise<AuditRulesState> {
    const by = actorName(actor);
    const known = new Set(auditRules.map((r) => r.id));
    for (const s of settings) {
      if (s.rule === PARSE_ERROR_RULE) throw new ApiError('BAD_REQUEST', 'parse-error cannot be set: a script that cannot be audited is always refused');
      if (!known.has(s.rule)) throw new ApiError('BAD_REQUEST', `no audit rule "${s.rule}"; GET /api/v1/audit/rules lists them`);
      if (s.mode !== 'scan' && s.mode !== 'block' && s.mode !== 'off') throw new ApiError('BAD_REQUEST', `mode of ${s.rule} must be scan, block or off`);
    }
    // One setting per rule, the last given winning, in catalogue order.
    const byRule = new Map(settings.map((s) => [s.rule, s.mode] as const));
    const clean = auditRules.filter((r) => byRule.has(r.id)).map((r) => ({ rule: r.id, mode: byRule.get(r.id)! }));
    const doc: RulesDoc = { _id: 'settings', settings: clean, updatedBy: by, updatedAtMs: this.clock.now() };
    const before = await this.stored();
    await this.docs.replaceOne({ _id: 'settings' }, doc, { upsert: true });
    await this.#auditLog?.record({ ...byFields(actor), action: 'audit-rules.set', target: 'audit-rules:settings', before: before?.settings ?? [], after: clean });
    this.log?.info('audit rule settings changed', { by, settings: clean });
    return this.viewOf(doc);
  }

  private async stored(): Promise<RulesDoc | null> {
    return this.docs.findOne({ _id: 'settings' });
  }

  private viewOf(doc: RulesDoc | null): AuditRulesState {
    return {
      rules: auditRules.map((r) => ({ id: r.id, description: r.description, defaultMode: r.defaultMode, mode: effectiveMode(r.id, doc?.settings ?? []), langs: [...r.langs] })),
      ...(doc ? { updatedBy: doc.updatedBy, updatedAtMs: doc.updatedAtMs } : {}),
    };
  }
}
