/**
 * The fingerprint of an agent's public key, defined once for both sides: the agent logs it
 * while its enrollment is pending, the server lists it (API, console), so an operator can
 * tell the real agent's key from others enrolled under the same host name.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** sha256 hex (64 lowercase characters) of the key's SPKI DER encoding. */
export function keyFingerprint(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey({ key: publicKey, format: 'pem' }) : publicKey;
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}
