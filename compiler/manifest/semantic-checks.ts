/**
 * Per-resource checks the JSON Schema cannot express. Pure: no I/O. Each returns problems
 * with a JSON pointer relative to the resource ("/content"); the caller prefixes and locates.
 */
import { resourceSchemas, type Resource } from '../../schemas/index.js';
import type { ManifestProblemCode } from './manifest-problem.js';

export interface ResourceIssue {
  readonly path: string;
  readonly code: ManifestProblemCode;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

const error = (path: string, code: ManifestProblemCode, message: string): ResourceIssue => ({ path, code, message, severity: 'error' });

/** A repository-relative path ("nginx/site.conf"): not absolute, no "..", no empty or "." segment. */
export function isSafeRelativePath(p: string): boolean {
  if (p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** Cross-field checks for one schema-valid resource. */
export function checkResource(r: Resource): ResourceIssue[] {
  const out: ResourceIssue[] = [];
  switch (r.type) {
    case 'file': {
      const given = (['content', 'source', 'template'] as const).filter((k) => r[k] !== undefined);
      if (given.length > 1) {
        const second = given[1]!;
        out.push(error(`/${second}`, 'CONFLICT', `a file takes its content from one of content, source or template; this one sets ${given.join(' and ')}: keep one`));
      }
      if (r.ensure === 'absent') {
        for (const k of [...given, ...(['mode', 'owner', 'group'] as const).filter((p) => r[p] !== undefined)]) {
          out.push(error(`/${k}`, 'CONFLICT', `${k} has no effect with ensure: absent (the file is removed); remove ${k} or the ensure`));
        }
      }
      if (r.vars !== undefined && r.template === undefined && r.content === undefined) {
        out.push(error('/vars', 'CONFLICT', 'vars are passed to a template or inline content; this file has neither'));
      }
      if (r.source !== undefined && !r.source.startsWith('sha256:')) out.push(...relativeSource('/source', r.source, 'files/'));
      if (r.source?.startsWith('sha256:') === true && !/^sha256:[0-9a-f]{64}$/.test(r.source)) {
        out.push(error('/source', 'INVALID_VALUE', 'a blob source must be "sha256:" followed by 64 lowercase hex digits'));
      }
      if (r.template !== undefined) out.push(...relativeSource('/template', r.template, 'templates/'));
      break;
    }
    case 'archive':
      if (!r.source.startsWith('sha256:')) out.push(...relativeSource('/source', r.source, 'files/'));
      break;
    case 'directory':
      if (r.purge === true && r.recurse !== true) {
        out.push(error('/purge', 'CONFLICT', 'purge removes unmanaged files below the directory and needs recurse: true; add recurse: true or remove purge'));
      }
      if (r.force === true && r.ensure !== 'absent') {
        out.push(error('/force', 'CONFLICT', 'force only matters with ensure: absent (it removes a non-empty directory); remove it'));
      }
      break;
    case 'link':
      if (r.ensure !== 'absent' && r.target === undefined) {
        out.push(error('', 'MISSING_PROPERTY', 'a link needs a target (what it points to), unless ensure: absent'));
      }
      if (r.ensure === 'absent' && r.target !== undefined) {
        out.push(error('/target', 'CONFLICT', 'target has no effect with ensure: absent; remove it'));
      }
      break;
    case 'service':
      if (r.provider === 'process' && r.start === undefined && r.ensure !== undefined) {
        out.push(error('/start', 'MISSING_PROPERTY', 'the process provider needs start: the command that starts the service'));
      }
      if (r.provider === 'systemd') {
        for (const k of ['start', 'stop', 'pidfile', 'pattern', 'cwd', 'user'] as const) {
          if (r[k] !== undefined) out.push(error(`/${k}`, 'CONFLICT', `${k} is for the process provider; systemd reads it from the unit file`));
        }
      }
      break;
    case 'exec':
    case 'package':
    case 'user':
    case 'group':
      break;
    default:
      r satisfies never;
  }
  if (Array.isArray(r.sensitive)) {
    const props = Object.keys(resourceSchemas[r.type].properties);
    r.sensitive.forEach((name, i) => {
      if (!props.includes(name)) out.push(error(`/sensitive/${i}`, 'INVALID_VALUE', `"${name}" is not a property of ${r.type}; sensitive lists property names to redact`));
    });
  }
  return out;
}

function relativeSource(path: string, value: string, folder: string): ResourceIssue[] {
  if (isSafeRelativePath(value)) return [];
  return [error(path, 'INVALID_VALUE', `"${value}" must be a path relative to the ${folder} folder beside the manifest, without ".." or a leading "/"`)];
}
