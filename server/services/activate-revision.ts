/**
 * Making an earlier revision live again (a rollback, ADR 0017), the same from the API and the
 * console: refused while a revision rollout runs (moving live would undo its batches), recorded
 * as a new commit on the manifest history when the server has git, and its fleet plan against
 * what was live before is stored in the background.
 */
import type { ActorLike } from './audit-log.js';
import type { RevisionInfo } from './revision-service.js';
import type { Services } from './services.js';

export async function activateRevision(s: Pick<Services, 'revisions' | 'rollouts' | 'git' | 'fleetPlans'>, id: string, by: ActorLike): Promise<RevisionInfo> {
  await s.rollouts.assertNoActiveRevision();
  const previous = await s.revisions.liveId();
  const r = s.git ? await s.git.activate(id, by) : await s.revisions.activate(id); // (no git: not in the history, nor the audit log)
  if (id !== previous) void s.fleetPlans.planPublished(id, previous);
  return r;
}
