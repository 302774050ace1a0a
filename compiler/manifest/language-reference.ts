/**
 * Generates docs/manifest-language.md from the schemas: the property tables come from each
 * resource schema's descriptions, so the reference cannot drift from what is validated.
 * test/compiler/manifest/language-reference.test.ts fails when the file is stale and rewrites
 * it when run with STEAD_UPDATE_DOCS=1.
 */
import { metaProperties, resourceSchemas, resourceTypes, type ResourceType } from '../../schemas/index.js';

interface PropSchema {
  readonly type?: string | readonly string[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly items?: PropSchema;
  readonly anyOf?: readonly PropSchema[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly description?: string;
  readonly additionalProperties?: PropSchema | boolean;
  readonly 'x-sensitive'?: boolean;
}

/** A short human type: "string", "`present` \| `absent`", "list of string", "integer 0–4294967294". */
export function describeType(s: PropSchema): string {
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(describeType).join(' or ');
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type as string | undefined) ?? 'any';
  if (t === 'array') return `list of ${s.items ? describeType(s.items) : 'any'}`;
  if (t === 'object') return typeof s.additionalProperties === 'object' ? `map of ${describeType(s.additionalProperties)}` : 'map';
  if (t === 'integer' || t === 'number') {
    if (s.minimum !== undefined && s.maximum !== undefined) return `${t} ${s.minimum}–${s.maximum}`;
    const bounds = [s.minimum !== undefined ? `≥ ${s.minimum}` : '', s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '', s.maximum !== undefined ? `≤ ${s.maximum}` : ''].filter(Boolean);
    return bounds.length > 0 ? `${t} ${bounds.join(', ')}` : t;
  }
  if (t === 'string' && s.pattern === '^[a-z]+:.+$') return '`type:title`';
  return t;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const metaNames = new Set(Object.keys(metaProperties));

function typeSection(type: ResourceType): string[] {
  const schema = resourceSchemas[type] as unknown as { description: string; required: readonly string[]; properties: Record<string, PropSchema> };
  const lines = [`### ${type}`, '', schema.description, '', '| property | type | required | description |', '|---|---|---|---|'];
  for (const [name, prop] of Object.entries(schema.properties)) {
    if (metaNames.has(name)) continue;
    const required = schema.required.includes(name) ? 'yes' : '';
    const secret = prop['x-sensitive'] === true ? ' Always redacted.' : '';
    const desc = `${prop.description ?? ''}${prop.description?.includes('redacted') ? '' : secret}`;
    lines.push(`| \`${name}\` | ${describeType(prop)} | ${required} | ${cell(desc)} |`);
  }
  lines.push('', `Plus the [metaparameters](#metaparameters). Identity: \`${type}:<${titleOf(type)}>\`.`, '');
  return lines;
}

function titleOf(type: ResourceType): string {
  switch (type) {
    case 'file':
    case 'directory':
    case 'link':
    case 'archive':
      return 'path';
    case 'exec':
      return 'name, else command';
    default:
      return 'name';
  }
}

/** The whole Markdown document. Deterministic. */
export function renderLanguageReference(): string {
  const meta = Object.entries(metaProperties as unknown as Record<string, PropSchema>).map(
    ([name, prop]) => `| \`${name}\` | ${describeType(prop)} | ${cell(prop.description ?? '')} |`,
  );
  return [
    '# The manifest language',
    '',
    '<!-- Generated from schemas/ by compiler/manifest/language-reference.ts. Do not edit by hand:',
    '     change the schema descriptions, then run STEAD_UPDATE_DOCS=1 npx tap --disable-coverage test/compiler/manifest/language-reference.test.ts -->',
    '',
    'A manifest is a YAML file (one document) with two keys:',
    '',
    '```yaml',
    'vars:                         # variables for templates (masterless stead apply)',
    '  region: { id: 7001, name: js }',
    'resources:                    # what the host must look like',
    '  - type: file',
    '    path: /etc/app/svc.conf',
    '    template: svc.conf.j2      # templates/svc.conf.j2 beside the manifest',
    '    vars: { svc_port: 8000 }   # parameters for this one rendering',
    '    mode: "0644"',
    '    notify: [service:app]',
    '  - type: service',
    '    name: app',
    '    ensure: running',
    '```',
    '',
    'Each resource is a map with a `type` and the properties of that type. Its identity is',
    '`type:title`, where the title is the `path` for file, directory, link and archive, the `name` for',
    'the others, and the `name` (else the `command`) of an exec. Two resources with the same identity',
    'are an error.',
    '',
    '## Rules worth knowing',
    '',
    '- **Modes are quoted strings**: `mode: "0644"`. YAML reads a bare `0644` as the decimal number 644;',
    '  Stead refuses it and tells you to quote it.',
    '- **Paths are absolute**, without `..` segments. `template:` and a relative `source:` are relative to',
    '  the `templates/` and `files/` folders beside the manifest, and may not leave them (no `..`, no',
    '  absolute path, no symbolic link pointing outside).',
    '- **Content comes from one place**: a file takes at most one of `content`, `source` and `template`.',
    '  With none, only existence, mode and ownership are managed.',
    '- **Inline content is a template too**: `content: "hello {{ inventory_hostname }}"` is rendered with',
    '  the variables, like a `template:` file (Jinja2, see [templates](templates.md)). Variable values are',
    '  never rendered again, so data containing `{{` stays literal.',
    '- **Booleans are `true` and `false`**: in YAML 1.2 `yes`/`no`/`on`/`off` are strings and are refused',
    '  where a boolean is expected.',
    '- **Keys `__proto__`, `constructor` and `prototype` are refused** anywhere in a manifest.',
    '- **Exec commands pass the safety audit**: `command`, `onlyif` and `unless` are parsed as shell and',
    '  checked against the script audit rules (see [security](security.md#script-safety-audit)). A',
    '  block-mode finding (`rm -rf /`, `rm -rf "$DIR/"*`, `mkfs`, `dd of=/dev/sda`, `curl … | sh`, …) is',
    '  an `AUDIT_BLOCKED` error naming the rule; scan-mode findings are `AUDIT_WARNING` warnings. To run a',
    '  blocked command on purpose, list the rule in the exec\'s `audit_allow: [rm-root]`: the finding',
    '  becomes a warning. `{{ … }}` in a command counts as a value that may be empty.',
    '- **Every mistake is reported at once**, each as `file:line:column: /json/pointer: message`, and',
    '  nothing is changed on the host while a manifest has errors.',
    '',
    '## Ordering and refresh',
    '',
    'Resources run in manifest order unless the metaparameters say otherwise:',
    '',
    '- `require: [package:nginx]`: apply nginx first; if it fails, this resource is skipped.',
    '- `before: [service:nginx]`: the reverse of require.',
    '- `notify: [service:nginx]`: like before, and nginx is refreshed (restarted) when this resource changed.',
    '- `subscribe: [file:/etc/nginx/nginx.conf]`: like require, and this resource is refreshed when that one changed.',
    '',
    'A reference to a resource that does not exist, or a cycle, is an error before anything runs.',
    'An `exec` with `refreshonly: true` that nothing notifies is a warning: it would never run.',
    '',
    '## Metaparameters',
    '',
    'Every resource type accepts these:',
    '',
    '| property | type | description |',
    '|---|---|---|',
    ...meta,
    '',
    '## Resource types',
    '',
    ...resourceTypes.flatMap(typeSection),
    '## Examples',
    '',
    'One manifest per type, and a realistic web server, are in `manifests/examples/`; a test checks',
    'that they all validate and compile, and applies the sandbox-safe ones for real.',
    '',
  ].join('\n');
}
