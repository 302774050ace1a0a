/**
 * What a readonly operator sees of secret-bearing content (issue 8 item 10). A digest of
 * content that comes from a secret lets anyone holding it test guesses offline, so a readonly
 * operator gets none: in a catalog preview, every "sha256:<hex>" of a resource marked
 * `sensitive` becomes "sha256:[hidden]" and its blob size entry is left out; in run reports,
 * the engine's "[redacted sha256:<12 hex>]" markers become "[redacted]". Admins, who can read
 * and change the secrets anyway, see the digests (they tell whether a secret-bearing file
 * changed). ADR 0008.
 */

const fullDigest = /^sha256:[0-9a-f]{64}$/;
export const hiddenDigest = 'sha256:[hidden]';

interface CatalogLike {
  readonly resources: readonly Record<string, unknown>[];
  readonly blobs?: Readonly<Record<string, number>>;
}

/** The catalog with the content digests of sensitive resources hidden (a copy; the input is untouched). */
export function hideSensitiveDigests<C extends CatalogLike>(catalog: C): C {
  const hidden = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string' && fullDigest.test(v)) {
      hidden.add(v);
      return hiddenDigest;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const resources = catalog.resources.map((r) => (r['sensitive'] === true ? (walk(r) as Record<string, unknown>) : r));
  const blobs = catalog.blobs ? Object.fromEntries(Object.entries(catalog.blobs).filter(([k]) => !hidden.has(k))) : undefined;
  return { ...catalog, resources, ...(blobs ? { blobs } : {}) };
}

/** A report's JSON text with the engine's redaction digests removed. */
export function hideRedactionDigests(json: string): string {
  return json.replace(/\[redacted sha256:[0-9a-f]{1,64}\]/g, '[redacted]');
}
