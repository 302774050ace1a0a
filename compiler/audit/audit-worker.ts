/** The audit's worker thread: runs auditScriptSync for the pool in audit-pool.ts. */
import { parentPort } from 'node:worker_threads';
import { auditScriptSync } from './audit-script.js';
import type { AuditInput, AuditRuleSetting } from './types.js';

export interface AuditRequest {
  readonly id: number;
  readonly input: AuditInput;
  readonly settings: readonly AuditRuleSetting[];
}

parentPort?.on('message', (req: AuditRequest) => {
  try {
    parentPort!.postMessage({ id: req.id, verdict: auditScriptSync(req.input, req.settings) });
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
