/**
 * The JSON endpoints editor.js calls from the edit page (the session cookie; same origin only,
 * application/json only, bounded): POST /manifests/check (the quick check as you type, any
 * operator) and POST /manifests/preview (a template rendered for a host, an operator who may
 * publish). The API's twins are POST /api/v1/manifests/check and /preview.
 */
import type { Router } from '@koa/router';
import type { AppContext, AppState } from '../../api/app-state.js';
import { readRawBody } from '../../api/body.js';
import { requestSignal } from '../../api/request-signal.js';
import { ApiError } from '../../domain/errors.js';
import { isValidHostName } from '../../domain/host-name.js';
import type { ManifestDrafts, Preview } from '../../services/manifests/manifest-drafts.js';
import { mayPublish } from '../../services/manifests/may-publish.js';
import type { ConsoleKit } from '../console-kit.js';
import { refusal } from '../jobs/job-pages.js';

const bodyLimit = 1536 * 1024;
const draftPattern = /^d-[0-9a-z]{6,40}$/;

export function mountEditorEndpoints(router: Router<AppState>, kit: ConsoleKit, svc: () => ManifestDrafts): void {
  const draftQuery = (v: string): string | undefined => (draftPattern.test(v) ? v : undefined);
  /** A JSON body from editor.js: same origin only (the session cookie is not enough), bounded. */
  const jsonFromPage = async (ctx: AppContext): Promise<Record<string, unknown>> => {
    if (!kit.sameOrigin(ctx)) throw new ApiError('FORBIDDEN', 'cross-origin request refused');
    if (!ctx.is('application/json')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    const raw = await readRawBody(ctx, bodyLimit);
    let v: unknown;
    try {
      v = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ApiError('BAD_REQUEST', 'the body is not JSON');
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApiError('BAD_REQUEST', 'the body must be an object');
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, name: string, max: number): string => {
    if (typeof v !== 'string' || v.length > max) throw new ApiError('BAD_REQUEST', `${name}: a string of at most ${max} characters`);
    return v;
  };

  router.post('/manifests/check', async (ctx) => {
    ctx.state.routeName = '/manifests/check';
    const op = kit.operator(ctx);
    if (!op) return;
    const b = await jsonFromPage(ctx);
    const draft = b['draft'] === undefined ? undefined : draftQuery(str(b['draft'], 'draft', 64));
    const r = await svc().check(str(b['path'], 'path', 1024), str(b['content'], 'content', 1024 * 1024), requestSignal(ctx), draft, op.name);
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = r;
  });

  router.post('/manifests/preview', async (ctx) => {
    ctx.state.routeName = '/manifests/preview';
    const op = kit.operator(ctx);
    if (!op) return;
    const b = await jsonFromPage(ctx);
    const why = mayPublish(op);
    if (why !== undefined) throw new ApiError('FORBIDDEN', why);
    const host = str(b['host'], 'host', 253);
    if (!isValidHostName(host)) throw new ApiError('BAD_REQUEST', 'host: not a host name');
    const draft = b['draft'] === undefined ? undefined : draftQuery(str(b['draft'], 'draft', 64));
    let r: Preview;
    try {
      r = await svc().preview(str(b['template'], 'template', 1024), host, requestSignal(ctx), { ...(b['content'] !== undefined ? { content: str(b['content'], 'content', 1024 * 1024) } : {}), ...(draft ? { draftId: draft } : {}), owner: op.name });
    } catch (err) {
      const x = refusal(err);
      if (!x) throw err;
      r = { template: String(b['template']), host, ok: false, problems: [{ code: 'PREVIEW', message: x.message }] };
    }
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = r;
  });
}
