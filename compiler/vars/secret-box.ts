/**
 * Encryption of secret variables at rest: AES-256-GCM under a 32-byte key the server holds in a
 * key file. Ciphertext text form: "v1:" + base64url(iv[12] | tag[16] | ciphertext). The key id
 * is not embedded: one repository, one key; a wrong key fails authentication, never decrypts
 * to garbage.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

export class SecretError extends Error {
  constructor(
    readonly code: 'SECRET_KEY_MISSING' | 'SECRET_KEY_INVALID' | 'SECRET_MALFORMED' | 'SECRET_DECRYPT_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'SecretError';
  }
}

const PREFIX = 'v1:';

/** Encrypts UTF-8 plaintext; a fresh random IV each time. */
export function encryptSecret(plaintext: string, key: Buffer): string {
  checkKey(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
}

/** Decrypts ciphertext produced by encryptSecret; throws SecretError (never with the plaintext). */
export function decryptSecret(ciphertext: string, key: Buffer): string {
  checkKey(key);
  if (!ciphertext.startsWith(PREFIX)) throw new SecretError('SECRET_MALFORMED', 'secret is not "v1:<base64url>" (produce it with `stead vars encrypt`)');
  const raw = Buffer.from(ciphertext.slice(PREFIX.length), 'base64url');
  if (raw.length < 28) throw new SecretError('SECRET_MALFORMED', 'secret ciphertext is too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretError('SECRET_DECRYPT_FAILED', 'secret does not decrypt with this key (wrong key file, or the ciphertext was altered)');
  }
}

/** A new random key, in the key file's text form (64 hex digits). */
export function generateKeyText(): string {
  return randomBytes(32).toString('hex');
}

/** Parses a key file's text: 64 hex digits (surrounding whitespace ignored). */
export function parseKeyText(text: string): Buffer {
  const t = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(t)) throw new SecretError('SECRET_KEY_INVALID', 'secret key file must hold 64 hex digits (create one with `stead vars keygen`)');
  return Buffer.from(t, 'hex');
}

/** Reads a key file. */
export async function readKeyFile(path: string, signal?: AbortSignal): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch (e) {
    throw new SecretError('SECRET_KEY_MISSING', `cannot read secret key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseKeyText(text);
}

/** Writes a new key file with mode 0600; refuses to overwrite an existing file. */
export async function writeNewKeyFile(path: string, signal?: AbortSignal): Promise<void> {
  await writeFile(path, generateKeyText() + '\n', { mode: 0o600, flag: 'wx', ...(signal ? { signal } : {}) });
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new SecretError('SECRET_KEY_INVALID', 'secret key must be 32 bytes');
}
