/**
 * The signed-request protocol between agents and the server (docs/api.md, ADR 0003), defined
 * once for both sides: the agent signs exactly this string and the server verifies exactly this
 * string. Pure: the body hash is computed by the caller.
 */

/** Version sent as X-Stead-Protocol; a missing header means this version. */
export const PROTOCOL_VERSION = 1;

/** The inputs of one signature. `bodySha256` is the lowercase sha256 hex of the raw body (of "" when none). */
export interface CanonicalRequestInput {
  readonly method: string;
  /** Path with query, exactly as on the request line: "/api/v1/hosts/web-1/catalog". */
  readonly pathWithQuery: string;
  /** The claimed host (X-Stead-Host): signed, so a key shared by two hosts cannot speak for the other. */
  readonly host: string;
  /** X-Stead-Time: unix milliseconds, as sent. */
  readonly time: string;
  readonly nonce: string;
  readonly bodySha256: string;
}

/** "<METHOD>\n<path with query>\n<host>\n<time>\n<nonce>\n<sha256 hex of the raw body>" */
export function canonicalRequest(i: CanonicalRequestInput): string {
  return `${i.method.toUpperCase()}\n${i.pathWithQuery}\n${i.host}\n${i.time}\n${i.nonce}\n${i.bodySha256}`;
}
