/**
 * reconcileThenPrune: after a run that could have written backups (not noop), applies the
 * backup retention policy and logs what it removed. A failed pass is logged and never fails
 * the run; the next run tries again.
 */
import type { RunReport } from '../../schemas/index.js';
import { pruneBackups, type BackupRetention } from '../resources/backup-retention.js';
import { errorFields, type Logger } from './json-logger.js';

export async function reconcileThenPrune(log: Logger, run: () => Promise<RunReport>, prune: { stateDir: string; policy: BackupRetention } | undefined, now: () => Date = () => new Date()): Promise<RunReport> {
  const report = await run();
  if (prune) {
    try {
      const r = await pruneBackups(prune.stateDir, prune.policy, now());
      if (r.entries > 0 || r.files > 0) {
        log.info('pruned file backups', { removedEntries: r.entries, removedFiles: r.files, removedBytes: r.bytes, keptEntries: r.keptEntries, keptBytes: r.keptBytes });
      }
    } catch (err) {
      log.error('pruning file backups failed; retried after the next run', { err: errorFields(err) });
    }
  }
  return report;
}
