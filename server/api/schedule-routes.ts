/**
 * /api/v1/schedules (ADR 0014): list, create, get, delete, enable, disable, and previews of a
 * spec's next runs. Reading needs any operator token; changing needs admin. Jobs a schedule
 * launches run as the operator who created it.
 */
import {
  scheduleCreateSchema,
  scheduleListSchema,
  schedulePreviewRequestSchema,
  schedulePreviewSchema,
  scheduleViewSchema,
  type ScheduleCreate,
  type SchedulePreviewRequest,
} from '../../schemas/api/schedules.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { isoAt } from '../domain/clock.js';
import type { ScheduleInfo } from '../services/schedules/schedule-service.js';
import type { AppContext } from './app-state.js';
import { jsonBody } from './body.js';
import { errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const createGuard: Guard<ScheduleCreate> = compileGuard(scheduleCreateSchema);
const previewGuard: Guard<SchedulePreviewRequest> = compileGuard(schedulePreviewRequestSchema);
const err = errorResponse;
const bodyLimit = 512 * 1024;

/** The API form of a schedule. */
export function scheduleView(s: ScheduleInfo): unknown {
  return {
    id: s.id,
    name: s.name,
    spec: s.spec,
    description: s.description,
    tz: s.tz,
    enabled: s.enabled,
    missed: s.missed,
    ...(s.job !== undefined ? { job: s.job } : {}),
    ...(s.plan !== undefined ? { plan: s.plan } : {}),
    createdBy: s.createdBy,
    createdAt: isoAt(s.createdAt),
    nextRuns: s.nextRuns.map(isoAt),
    ...(s.last
      ? { lastRun: { at: isoAt(s.last.at), firedAt: isoAt(s.last.firedAt), missedRuns: s.last.missedRuns, ...(s.last.jobId !== undefined ? { jobId: s.last.jobId } : {}), ...(s.last.jobState !== undefined ? { jobState: s.last.jobState } : {}), ...(s.last.error !== undefined ? { error: s.last.error } : {}) } }
      : {}),
    ...(s.skipped ? { skipped: { count: s.skipped.count, capped: s.skipped.capped, latest: isoAt(s.skipped.latest), at: isoAt(s.skipped.at) } } : {}),
  };
}

function operatorName(ctx: AppContext): string {
  return operatorOf(ctx).name;
}

const nameParam = (ctx: AppContext): string => ctx.params['name'] ?? '';

export const scheduleRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/schedules',
    auth: 'read',
    tag: 'schedules',
    summary: 'Every schedule with its next runs and last run.',
    responses: { 200: { description: 'schedules', schema: scheduleListSchema } },
    async handler(ctx, s) {
      ctx.body = { schedules: (await s.schedules.list()).map(scheduleView), firing: s.schedules.firing };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/schedules',
    auth: 'fleet',
    audit: ['schedule.create'],
    tag: 'schedules',
    summary: 'Create a schedule that launches a job body or a saved plan.',
    body: { types: ['application/json'], limit: bodyLimit, schema: scheduleCreateSchema },
    responses: { 201: { description: 'the schedule', schema: scheduleViewSchema }, 400: err('not a valid spec, name or body'), 409: err('the name is taken, or too many schedules') },
    async handler(ctx, s) {
      const b = await jsonBody(ctx, createGuard, bodyLimit);
      const by = operatorName(ctx);
      const created = await s.schedules.create(
        {
          name: b.name,
          spec: b.spec,
          ...(b.job !== undefined ? { job: b.job } : {}),
          ...(b.plan !== undefined ? { plan: { id: b.plan.id, ...(b.plan.body !== undefined ? { body: b.plan.body } : {}) } } : {}),
          ...(b.missed !== undefined ? { missed: b.missed } : {}),
          ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
        },
        { name: by, address: ctx.ip },
      );
      ctx.state.log.info('schedule created', { schedule: created.name, operator: by, spec: created.description });
      ctx.status = 201;
      ctx.body = scheduleView(created);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/schedules/preview',
    auth: 'read',
    tag: 'schedules',
    summary: 'How the server reads a spec, and its next runs (five unless count says otherwise). Nothing is stored.',
    body: { types: ['application/json'], limit: 16 * 1024, schema: schedulePreviewRequestSchema },
    responses: { 200: { description: 'preview', schema: schedulePreviewSchema }, 400: err('not a valid spec (the message names the problem)') },
    async handler(ctx, s) {
      const b = await jsonBody(ctx, previewGuard, 16 * 1024);
      const p = s.schedules.preview(b.spec, b.count ?? 5);
      ctx.body = { description: p.description, tz: p.tz, nextRuns: p.nextRuns.map(isoAt) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/schedules/:name',
    auth: 'read',
    tag: 'schedules',
    summary: 'One schedule.',
    responses: { 200: { description: 'the schedule', schema: scheduleViewSchema }, 400: err('not a schedule name'), 404: err('no such schedule') },
    async handler(ctx, s) {
      ctx.body = scheduleView(await s.schedules.get(nameParam(ctx)));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/schedules/:name',
    auth: 'fleet',
    audit: ['schedule.delete'],
    tag: 'schedules',
    summary: 'Delete a schedule (jobs it launched stay).',
    responses: { 204: { description: 'deleted' }, 404: err('no such schedule') },
    async handler(ctx, s) {
      const name = nameParam(ctx);
      await s.schedules.delete(name, { name: operatorName(ctx), address: ctx.ip });
      ctx.state.log.info('schedule deleted', { schedule: name, operator: operatorName(ctx) });
      ctx.status = 204;
    },
  },
  ...(['enable', 'disable'] as const).map(
    (action): RouteSpec => ({
      method: 'POST',
      path: `/api/v1/schedules/:name/${action}`,
      auth: 'fleet',
      audit: [`schedule.${action}`],
      tag: 'schedules',
      summary: action === 'enable' ? 'Enable a schedule (runs that fell while it was disabled are not run).' : 'Disable a schedule: it does not fire until enabled.',
      responses: { 200: { description: 'the schedule', schema: scheduleViewSchema }, 404: err('no such schedule') },
      async handler(ctx, s) {
        const name = nameParam(ctx);
        const after = await s.schedules.setEnabled(name, action === 'enable', { name: operatorName(ctx), address: ctx.ip });
        ctx.state.log.info(`schedule ${action}d`, { schedule: name, operator: operatorName(ctx) });
        ctx.body = scheduleView(after);
      },
    }),
  ),
];
