/**
 * The flattened variable key table of one repository file (docs/manifest-repository.md,
 * Variables): one row per leaf, keyed as `stead vars show --flat` keys them
 * (`nginx.worker_connections`, `servers["db1.example.com"].port`), read from the file with the
 * compiler's own YAML reader and key formatter, and edited back into the YAML text through the
 * `yaml` document model so comments and the rest of the file stay as they were.
 *
 * Which map of a file holds variables: vars/global.yaml is the map; a group's `vars:`; an
 * inventory host's `hosts.<host>.vars` (the table then needs the host).
 */
import { Document, isMap, parseDocument } from 'yaml';
import { parseYamlFile } from '../../../compiler/repo/yaml-file.js';
import { flattenVars } from '../../../compiler/vars/flatten.js';
import { formatKeyPath, parseKeyPath, type KeySegment } from '../../../compiler/vars/key-path.js';
import { FORBIDDEN_KEYS, isVarMap } from '../../../compiler/vars/merge.js';
import { isSecretValue } from '../../../compiler/vars/secret-value.js';
import { ApiError } from '../../domain/errors.js';

/** One row: the key, its value as YAML flow text, its line in the file; secrets show their marker and cannot be edited here. */
export interface VarRow {
  readonly key: string;
  readonly value: string;
  readonly line?: number;
  readonly secret?: boolean;
}

export interface VarTable {
  readonly path: string;
  /** The inventory host whose vars these are (inventory files only). */
  readonly host?: string;
  /** Hosts of an inventory file (to choose from). */
  readonly hosts?: readonly string[];
  readonly rows: readonly VarRow[];
}

/** One edit: set `key` to the YAML value `value`, or remove it (`value` absent). */
export interface VarEdit {
  readonly key: string;
  readonly value?: string;
}

/** Whether a file holds variables the table can show. */
export function holdsVariables(path: string): boolean {
  return /^vars\/global\.ya?ml$/.test(path) || /^groups\/[^/]+\.ya?ml$/.test(path) || /^inventory\/[^/]+\.ya?ml$/.test(path);
}

function rootOf(path: string, host: string | undefined): KeySegment[] {
  if (path.startsWith('vars/')) return [];
  if (path.startsWith('groups/')) return ['vars'];
  if (host === undefined) throw new ApiError('BAD_REQUEST', `${path} declares hosts: name the host whose variables to show (host=)`);
  return ['hosts', host, 'vars'];
}

function getIn(value: unknown, path: readonly KeySegment[]): unknown {
  let at = value;
  for (const s of path) {
    if (!isVarMap(at) || !Object.hasOwn(at, String(s))) return undefined;
    at = at[String(s)];
  }
  return at;
}

/** The key table of `text` (the content of `path`). Throws BAD_REQUEST when the file does not parse. */
export function readVarTable(path: string, text: string, host?: string): VarTable {
  if (!holdsVariables(path)) throw new ApiError('BAD_REQUEST', `${path} holds no variables (vars/global.yaml, groups/*.yaml and inventory/*.yaml do)`);
  const yf = parseYamlFile(path, text);
  if (yf.problems.length > 0) {
    const p = yf.problems[0]!;
    throw new ApiError('BAD_REQUEST', `${path}:${p.line ?? 1}: ${p.message} (fix the YAML first)`, { problems: yf.problems.slice(0, 20) });
  }
  let hosts: string[] | undefined;
  if (path.startsWith('inventory/')) {
    const h = getIn(yf.value, ['hosts']);
    hosts = isVarMap(h) ? Object.keys(h) : [];
    if (host === undefined) host = hosts[0];
    if (host === undefined) return { path, hosts, rows: [] };
    if (!hosts.includes(host)) throw new ApiError('NOT_FOUND', `${path} declares no host ${host}`);
  }
  const root = rootOf(path, host);
  const map = getIn(yf.value, root);
  const rows: VarRow[] = [];
  if (isVarMap(map)) {
    for (const e of flattenVars(map)) {
      if (e.path.length === 0) continue;
      const pos = yf.locate([...root, ...e.path]);
      const secret = isSecretValue(e.value);
      rows.push({ key: e.key, value: secret ? (e.value as { redacted(): string }).redacted() : flow(e.value), ...(pos ? { line: pos.line } : {}), ...(secret ? { secret: true } : {}) });
    }
  }
  return { path, ...(host !== undefined ? { host } : {}), ...(hosts ? { hosts } : {}), rows };
}

/** A value as one line of YAML flow text (`8080`, `"x"`, `[a, b]`). */
function flow(v: unknown): string {
  const doc = new Document(v, { flow: true });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false }).trim();
}

/**
 * `text` with `edits` applied (set or remove keys of the file's variables), comments kept.
 * Keys are parsed as the table writes them; forbidden keys and secrets are refused; a value is
 * read as YAML (so `8080` is a number and `"8080"` a string).
 */
export function editVarTable(path: string, text: string, edits: readonly VarEdit[], host?: string): string {
  if (!holdsVariables(path)) throw new ApiError('BAD_REQUEST', `${path} holds no variables`);
  const doc: Document = parseDocument(text, { uniqueKeys: true, merge: false, customTags: [{ tag: '!secret', resolve: (s: string) => s }] });
  if (doc.errors.length > 0) throw new ApiError('BAD_REQUEST', `${path} does not parse (${doc.errors[0]!.message.split('\n')[0]}): fix the YAML first`);
  const current = parseYamlFile(path, text);
  if (path.startsWith('inventory/') && host === undefined) throw new ApiError('BAD_REQUEST', `${path} declares hosts: name the host whose variables to edit (host=)`);
  const root = rootOf(path, host);
  if (doc.contents === null || (!isMap(doc.contents) && root.length === 0)) doc.contents = doc.createNode({});
  for (const e of edits) {
    const key = parseKeyPath(e.key);
    if (!key) throw new ApiError('BAD_REQUEST', `${JSON.stringify(e.key.slice(0, 100))} is not a variable key (write it as the table does: a.b, a["x.y"], list[0])`);
    if (key.some((s) => FORBIDDEN_KEYS.has(String(s)))) throw new ApiError('BAD_REQUEST', `key ${e.key.slice(0, 100)} uses a forbidden name (__proto__, constructor, prototype)`);
    const at = [...root, ...key];
    if (isSecretValue(getIn(current.value, at))) throw new ApiError('BAD_REQUEST', `${e.key} holds a secret: edit it in the YAML view with a new !secret value (stead vars encrypt)`);
    if (e.value === undefined) {
      if (!doc.hasIn(at)) throw new ApiError('NOT_FOUND', `${path} has no variable ${e.key}`);
      doc.deleteIn(at);
      continue;
    }
    const parsed = parseYamlFile(path, e.value);
    if (parsed.problems.length > 0) throw new ApiError('BAD_REQUEST', `the value of ${e.key} is not YAML: ${parsed.problems[0]!.message}`);
    if (isSecretValue(parsed.value) || /!secret/.test(e.value)) throw new ApiError('BAD_REQUEST', `set secrets in the YAML view (a !secret value from stead vars encrypt), not in the key table`);
    const node = doc.createNode(parsed.value);
    // The comments around the value it replaces stay with the new value.
    const before = doc.getIn(at, true) as { comment?: string | null; commentBefore?: string | null } | undefined;
    if (before && typeof before === 'object') {
      if (before.comment) node.comment = before.comment;
      if (before.commentBefore) node.commentBefore = before.commentBefore;
    }
    doc.setIn(at, node);
  }
  // As people write YAML: `[a, b]`, long lines kept (the library would pad and fold them).
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

/** The key `key` as the table writes it (normalised), or undefined when it does not parse. */
export function normaliseKey(key: string): string | undefined {
  const p = parseKeyPath(key);
  return p ? formatKeyPath(p) : undefined;
}
