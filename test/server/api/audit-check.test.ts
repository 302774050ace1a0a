/**
 * The router's audit check (server/api/audit-check.ts) without a server: which routes must
 * declare audit actions, and what counts as recorded as declared (one of them, none twice on
 * one target; a request the service marked unchanged needs none).
 */
import t from 'tap';
import { auditProblem, needsAuditDeclaration, runAudited } from '../../../server/api/audit-check.js';
import type { AppContext } from '../../../server/api/app-state.js';
import type { RouteSpec } from '../../../server/api/route-spec.js';
import { auditScope, auditUnchanged } from '../../../server/services/audit-log.js';
import { createLogger } from '../../../server/log.js';

t.test('needsAuditDeclaration: write routes that are not GET', async (t) => {
  t.ok(needsAuditDeclaration({ auth: 'write', method: 'POST' }));
  t.ok(needsAuditDeclaration({ auth: 'write', method: 'DELETE' }));
  t.notOk(needsAuditDeclaration({ auth: 'write', method: 'GET' }));
  t.notOk(needsAuditDeclaration({ auth: 'read', method: 'POST' }));
  t.notOk(needsAuditDeclaration({ auth: 'agent', method: 'PUT' }));
});

t.test('auditProblem', async (t) => {
  t.equal(auditProblem(['job.launch'], [{ action: 'job.launch', target: 'job:1' }]), undefined);
  t.equal(auditProblem(['software.upgrade'], [{ action: 'software.upgrade', target: 'software:x' }, { action: 'rollout.start', target: 'rollout:1' }]), undefined, 'other actions may come along');
  t.match(auditProblem(['job.launch'], []), /none of job\.launch was recorded/);
  t.match(auditProblem(['job.launch'], [{ action: 'job.cancel', target: 'job:1' }]), /recorded: job\.cancel/);
  t.match(auditProblem(['job.launch'], [{ action: 'job.launch', target: 'job:1' }, { action: 'job.launch', target: 'job:1' }]), /recorded twice/);
});

t.test('runAudited: strict mode throws when a successful change recorded nothing', async (t) => {
  const logs: string[] = [];
  const log = createLogger({ write: (l) => void logs.push(l) });
  const spec = { method: 'POST', path: '/x', audit: ['x.do'] } as unknown as RouteSpec;
  const ctx = (status: number) => ({ status, state: {} }) as unknown as AppContext;
  const record = () => auditScope.getStore()?.events.push({ action: 'x.do', target: 'x:1' });
  await runAudited(spec, ctx(200), async () => void record(), { strict: true, log });
  await t.rejects(runAudited(spec, ctx(200), async () => undefined, { strict: true, log }), /audit check of POST \/x: none of x\.do/);
  await runAudited(spec, ctx(200), async () => undefined, { strict: false, log });
  t.match(logs.join('\n'), /did not record as declared/, 'not strict: logged');
  await runAudited(spec, ctx(404), async () => undefined, { strict: true, log });
  await runAudited(spec, ctx(200), async () => auditUnchanged(), { strict: true, log });
  t.pass('a failed request, or one that changed nothing, needs no event');
  await runAudited({ ...spec, audit: { none: 'a plan' } } as unknown as RouteSpec, ctx(200), async () => undefined, { strict: true, log });
  t.pass('a route declaring none is not checked');
});
