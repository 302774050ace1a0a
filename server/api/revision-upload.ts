/**
 * Reading a repository upload: the body of publishing (POST /api/v1/revisions) and of planning
 * an upload (POST /api/v1/revisions/plan). JSON (schemas/api/revision.ts revisionUploadSchema:
 * files by path, UTF-8 or base64) or a tar.gz, with the message in X-Stead-Message.
 */
import { revisionUploadSchema, type RevisionUpload } from '../../schemas/api/revision.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { filesFromJson, filesFromTarGz } from '../services/repository-files.js';
import type { AppContext } from './app-state.js';
import { jsonBody, readRawBody, requireMediaType } from './body.js';

const revisionGuard: Guard<RevisionUpload> = compileGuard(revisionUploadSchema);

/** Largest repository upload. */
export const revisionUploadLimit = 64 * 1024 * 1024;
/** Media types of a tar.gz upload. */
export const gzipUploadTypes = ['application/gzip', 'application/x-gzip', 'application/x-tar+gzip', 'application/tar+gzip'] as const;

/** The checked files of an upload, its message, and the JSON body when it was JSON. */
export async function readRevisionUpload(ctx: AppContext): Promise<{ files: Map<string, Buffer>; message?: string; body?: RevisionUpload }> {
  const type = requireMediaType(ctx, ['application/json', ...gzipUploadTypes]);
  if (type === 'application/json') {
    const body = await jsonBody(ctx, revisionGuard, revisionUploadLimit);
    return { files: filesFromJson(body.files, body.encoding), ...(body.message !== undefined ? { message: body.message } : {}), body };
  }
  const files = await filesFromTarGz(await readRawBody(ctx, revisionUploadLimit));
  const m = ctx.get('x-stead-message');
  return { files, ...(m ? { message: m.slice(0, 1000) } : {}) };
}
