/**
 * A bounded multipart/form-data reader for the console's upload form (the import page): the
 * browser's only way to send a file without script. It takes the parts of one already-read body
 * (the caller bounds its size), at most `maxParts`, each with a `name` (and `filename` for a
 * file); headers of a part are at most 8 KiB. Anything malformed is an ApiError BAD_REQUEST.
 */
import { ApiError } from '../../domain/errors.js';

export interface FormPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

const maxHeaderBytes = 8 * 1024;

/** The boundary of a multipart/form-data Content-Type, or undefined when it is not one. */
export function multipartBoundary(contentType: string): string | undefined {
  const m = /^\s*multipart\/form-data\s*;(.*)$/i.exec(contentType);
  if (!m) return undefined;
  const b = /(?:^|;)\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(m[1] ?? '');
  return b ? (b[1] ?? b[2]) : undefined;
}

function param(header: string, name: string): string | undefined {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.){0,1024})"|([^\\s;"]{1,1024}))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

export function parseMultipart(body: Buffer, boundary: string, maxParts = 16): FormPart[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new ApiError('BAD_REQUEST', 'multipart body without its boundary');
  for (;;) {
    pos += delim.length;
    // "--" after a delimiter ends the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else throw new ApiError('BAD_REQUEST', 'malformed multipart body');
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0 || headEnd - pos > maxHeaderBytes) throw new ApiError('BAD_REQUEST', 'malformed multipart part headers');
    const headers = body.subarray(pos, headEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) throw new ApiError('BAD_REQUEST', 'multipart body ends inside a part');
    if (parts.length >= maxParts) throw new ApiError('BAD_REQUEST', `at most ${maxParts} form fields`);
    let disposition = '';
    let contentType: string | undefined;
    for (const h of headers) {
      const i = h.indexOf(':');
      if (i < 0) continue;
      const k = h.slice(0, i).trim().toLowerCase();
      if (k === 'content-disposition') disposition = h.slice(i + 1);
      else if (k === 'content-type') contentType = h.slice(i + 1).trim();
    }
    const name = param(disposition, 'name');
    if (!/^\s*form-data\s*;/i.test(disposition) || name === undefined) throw new ApiError('BAD_REQUEST', 'a multipart part without a form-data name');
    const filename = param(disposition, 'filename');
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), ...(contentType !== undefined ? { contentType } : {}), data: body.subarray(headEnd + 4, next) });
    pos = next + 2;
  }
}
