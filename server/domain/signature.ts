/**
 * The server side of request signing (docs/api.md, ADR 0003). The signed string is defined once,
 * for both sides, in schemas/protocol.ts.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { keyFingerprint } from '../../schemas/key-fingerprint.js';
import { canonicalRequest } from '../../schemas/protocol.js';
import { ApiError } from './errors.js';

/** The string the agent signed for this request (schemas/protocol.ts), from the body's sha256 (hex). */
export function signedStringForHash(method: string, pathWithQuery: string, host: string, time: string, nonce: string, bodySha256: string): string {
  return canonicalRequest({ method, pathWithQuery, host, time, nonce, bodySha256 });
}

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The header in which an agent declares its body's sha256, so the signature is checked first. */
export const bodyHashHeader = 'X-Stead-Body-Sha256';
export const emptySha256 = sha256Hex(Buffer.alloc(0));
export const sha256Syntax = /^[0-9a-f]{64}$/;

/**
 * Checks an Ed25519 signature on libuv's thread pool: the check (~100 µs on the 2-core bench
 * machine, the largest fixed cost of a signed request) runs beside the event loop instead of on it
 * (~8 µs of the loop's time to hand it over). Resolves false for a
 * malformed signature or key.
 */
export function verifySignatureOffLoop(publicKey: KeyObject, canonical: string, signatureB64: string): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(null, Buffer.from(canonical, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'), (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
}

/** Parses an SPKI PEM and insists on Ed25519; returns the key and its fingerprint (sha256 hex of the DER). */
export function parseAgentPublicKey(pem: string): { key: KeyObject; fingerprint: string; pem: string } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new ApiError('INVALID_KEY', 'publicKey is not a readable SPKI PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ApiError('INVALID_KEY', `publicKey must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'unknown'}`);
  const normalised = key.export({ type: 'spki', format: 'pem' }).toString();
  return { key, fingerprint: keyFingerprint(key), pem: normalised };
}

export const nonceSyntax = /^[A-Za-z0-9_+/=-]{16,128}$/;
export const signatureSyntax = /^[A-Za-z0-9+/]{86}==$/;
export const timeSyntax = /^[0-9]{1,16}$/;
