/**
 * Redaction of secrets before anything leaves the engine (report, onResource, logs).
 *
 * A resource's secrets are: every property when `sensitive: true`; the named properties when
 * `sensitive` is a list; and the properties its schema marks x-sensitive (sensitiveByDefault).
 * Values become "[redacted sha256:<first 12 hex of sha256>]" (the hash lets an operator see that
 * a value changed without seeing it); free text (error messages, command output, log lines) is
 * scrubbed of the secret strings; a resource whose content is secret gets no content diff.
 */
import { createHash } from 'node:crypto';
import { resourceSchemas, sensitiveByDefault, type Resource } from '../../schemas/index.js';

/** Properties that are one secret seen through different names (file content). */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  content: ['content', 'source', 'template'],
  source: ['content', 'source', 'template'],
  template: ['content', 'source', 'template'],
  command: ['command', 'output'],
};
/** Never secret: identity and graph metaparameters. */
const NEVER = new Set(['type', 'require', 'before', 'notify', 'subscribe', 'sensitive', 'timeout', 'tags']);
/** Shorter strings are not scrubbed from free text (they would mangle it and protect nothing). */
const MIN_SCRUB_LENGTH = 4;

/** The marker that replaces a secret value. */
export function redactedMarker(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return `[redacted sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}]`;
}

export interface Redactor {
  /** true when nothing of this resource may be shown. */
  readonly all: boolean;
  /** Redacted property names (after aliases). */
  readonly properties: ReadonlySet<string>;
  /** true when a content diff must not be shown. */
  readonly noDiff: boolean;
  /** true when command output must not be shown. */
  readonly noOutput: boolean;
  /** The value to show for a property. */
  value(property: string, value: unknown): unknown;
  /** Free text with every secret string replaced by its marker. */
  text(s: string): string;
}

function collectStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string') {
    if (v.length >= MIN_SCRUB_LENGTH) out.push(v);
  } else if (Array.isArray(v)) {
    for (const x of v) collectStrings(x, out);
  } else if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) collectStrings(x, out);
  }
}

const byDefault = new Map<string, readonly string[]>();
function defaultSensitive(type: Resource['type']): readonly string[] {
  let v = byDefault.get(type);
  if (!v) {
    v = sensitiveByDefault(type);
    byDefault.set(type, v);
  }
  return v;
}

/** The redactor for one resource; extraSecrets are more strings to scrub (e.g. secret file content). */
export function redactorFor(resource: Resource, extraSecrets: readonly string[] = []): Redactor {
  const sensitive = (resource as { sensitive?: boolean | string[] }).sensitive;
  const all = sensitive === true;
  const props = new Set<string>();
  const schemaProps = Object.keys(resourceSchemas[resource.type].properties);
  const title = resource.type === 'exec' ? 'name' : resource.type === 'file' || resource.type === 'directory' || resource.type === 'link' || resource.type === 'archive' ? 'path' : 'name';
  const named = all ? schemaProps.filter((p) => !NEVER.has(p) && p !== title) : Array.isArray(sensitive) ? sensitive : [];
  for (const p of [...named, ...defaultSensitive(resource.type)]) {
    for (const a of ALIASES[p] ?? [p]) props.add(a);
  }
  const secrets: string[] = [...extraSecrets.filter((s) => s.length >= MIN_SCRUB_LENGTH)];
  for (const p of props) collectStrings((resource as Record<string, unknown>)[p], secrets);
  secrets.sort((a, b) => b.length - a.length);
  const noDiff = all || props.has('content');
  const noOutput = all || props.has('output');
  return {
    all,
    properties: props,
    noDiff,
    noOutput,
    value: (property, value) => (all || props.has(property) ? redactedMarker(value) : value),
    text(s: string): string {
      let out = s;
      for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(redactedMarker(secret));
      return out;
    },
  };
}
