import { createHash } from 'node:crypto';

/**
 * A secret as it sits in a variable layer: ciphertext only (AES-256-GCM, see secret-box.ts).
 * Printing, JSON, explain and vars views all show `redacted()`; only the compiler, at compile
 * time and with the server's key, turns it into plaintext (revealSecrets).
 */
export class SecretValue {
  /** Where the secret was written, "file:line", for errors that must not show the value. */
  readonly origin: string;
  constructor(
    readonly ciphertext: string,
    origin = '',
  ) {
    this.origin = origin;
    Object.freeze(this);
  }
  /** "[secret sha256:<12 hex>]": a marker plus a hash of the ciphertext (never of the plaintext). */
  redacted(): string {
    return `[secret sha256:${createHash('sha256').update(this.ciphertext).digest('hex').slice(0, 12)}]`;
  }
  toString(): string {
    return this.redacted();
  }
  toJSON(): string {
    return this.redacted();
  }
}

export function isSecretValue(v: unknown): v is SecretValue {
  return v instanceof SecretValue;
}
