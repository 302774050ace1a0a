/**
 * Turning secrets in merged variables into plaintext (compile time only) or into markers (every
 * view). Both return fresh copies, so templates that mutate lists (`.append()`) never touch the
 * repository's shared values.
 */
import { decryptSecret, SecretError } from './secret-box.js';
import { isVarMap, setOwn, type VarMap } from './merge.js';
import { isSecretValue, type SecretValue } from './secret-value.js';

/** A secret met while revealing, with its plaintext (kept in memory for redacting error messages). */
export interface RevealedSecret {
  readonly secret: SecretValue;
  readonly plaintext: string;
}

/** A deep copy of `value` with every secret decrypted; `used` collects the secrets met. */
export function revealSecrets(value: unknown, key: Buffer | undefined, used: RevealedSecret[] = []): unknown {
  if (isSecretValue(value)) {
    if (!key) throw new SecretError('SECRET_KEY_MISSING', `secret${value.origin ? ` at ${value.origin}` : ''} needs the secret key (--key-file or STEAD_SECRET_KEY_FILE)`);
    try {
      const plaintext = decryptSecret(value.ciphertext, key);
      used.push({ secret: value, plaintext });
      return plaintext;
    } catch (e) {
      if (e instanceof SecretError) throw new SecretError(e.code, `${e.message}${value.origin ? ` (secret at ${value.origin})` : ''}`);
      throw e;
    }
  }
  if (Array.isArray(value)) return value.map((v: unknown) => revealSecrets(v, key, used));
  if (isVarMap(value)) {
    const out: VarMap = {};
    for (const k of Object.keys(value)) setOwn(out, k, revealSecrets(value[k], key, used));
    return out;
  }
  return value;
}

/** A deep copy with every secret replaced by its redaction marker string. */
export function redactSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return value.redacted();
  if (Array.isArray(value)) return value.map((v: unknown) => redactSecrets(v));
  if (isVarMap(value)) {
    const out: VarMap = {};
    for (const k of Object.keys(value)) setOwn(out, k, redactSecrets(value[k]));
    return out;
  }
  return value;
}

/** A deep copy with each secret replaced by a distinct probe string (to detect which outputs depend on secrets). */
export function probeSecrets(value: unknown, counter = { n: 0 }): unknown {
  if (isSecretValue(value)) return `stead-secret-probe-${++counter.n}-${value.redacted()}`;
  if (Array.isArray(value)) return value.map((v: unknown) => probeSecrets(v, counter));
  if (isVarMap(value)) {
    const out: VarMap = {};
    for (const k of Object.keys(value)) setOwn(out, k, probeSecrets(value[k], counter));
    return out;
  }
  return value;
}

/** true when `value` holds a secret anywhere. */
export function containsSecret(value: unknown): boolean {
  if (isSecretValue(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (isVarMap(value)) return Object.keys(value).some((k) => containsSecret(value[k]));
  return false;
}
