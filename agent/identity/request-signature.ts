/**
 * Request signing, the agent side of the protocol in docs/api.md. Every request after
 * enrollment carries:
 *   X-Stead-Host       the host name
 *   X-Stead-Time       unix milliseconds
 *   X-Stead-Nonce      at least 16 random characters
 *   X-Stead-Signature  base64 Ed25519 signature of the UTF-8 string defined in schemas/protocol.ts:
 *                      "<METHOD>\n<path with query>\n<host>\n<time>\n<nonce>\n<sha256 hex of the raw body>"
 * (the body hash is that of the empty string when there is no body), and
 *   X-Stead-Body-Sha256  that body hash, so the server checks the signature before it reads the
 *                        body (it never holds a body it cannot attribute: ADR 0008).
 */
import { createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalRequest as protocolString } from '../../schemas/protocol.js';

export interface SignInput {
  readonly method: string;
  /** Path with query, exactly as sent on the request line: "/api/v1/hosts/web-1/catalog". */
  readonly pathWithQuery: string;
  readonly body?: Uint8Array | string | undefined;
  readonly host: string;
  readonly timeMs: number;
  readonly nonce: string;
}

/** sha256 hex of a body (of the empty string when absent). */
export function bodyDigest(body: Uint8Array | string | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex');
}

/** The exact string that is signed. */
export function canonicalRequest(i: Pick<SignInput, 'method' | 'pathWithQuery' | 'body' | 'host' | 'timeMs' | 'nonce'>): string {
  return protocolString({ method: i.method, pathWithQuery: i.pathWithQuery, host: i.host, time: String(i.timeMs), nonce: i.nonce, bodySha256: bodyDigest(i.body) });
}

/** A fresh nonce: 24 base64url characters from 18 random bytes. */
export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** The X-Stead-* headers for a request. */
export function signRequest(i: SignInput, privateKey: KeyObject): Record<string, string> {
  const bodySha256 = bodyDigest(i.body);
  const signed = protocolString({ method: i.method, pathWithQuery: i.pathWithQuery, host: i.host, time: String(i.timeMs), nonce: i.nonce, bodySha256 });
  const signature = sign(null, Buffer.from(signed, 'utf8'), privateKey).toString('base64');
  return {
    'x-stead-host': i.host,
    'x-stead-time': String(i.timeMs),
    'x-stead-nonce': i.nonce,
    'x-stead-body-sha256': bodySha256,
    'x-stead-signature': signature,
  };
}

/** Checks a signature against a public key (tests, and a reference for the server side). */
export function verifyRequestSignature(i: SignInput, signatureB64: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(canonicalRequest(i), 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
