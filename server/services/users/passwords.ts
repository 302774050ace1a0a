/**
 * Password hashing: argon2id through @node-rs/argon2 (OWASP parameters: 19 MiB, 2 passes,
 * 1 lane). Passwords are 12–1024 bytes of UTF-8; the bound is checked before hashing so a
 * huge password cannot cost the server more than a normal one.
 *
 * An unknown user is verified against a dummy hash made once with the same parameters, so a
 * login for a name that does not exist costs what a wrong password costs.
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { ApiError } from '../../domain/errors.js';

export const minPasswordBytes = 12;
export const maxPasswordBytes = 1024;

/** Algorithm.Argon2id (a const enum, which verbatimModuleSyntax cannot read). */
const argon2id = 2 as Algorithm;
const options = { algorithm: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Throws BAD_REQUEST for a password outside 12..1024 bytes. */
export function checkPasswordLength(password: string): void {
  const n = Buffer.byteLength(password, 'utf8');
  if (n < minPasswordBytes || n > maxPasswordBytes) throw new ApiError('BAD_REQUEST', `a password must be ${minPasswordBytes}–${maxPasswordBytes} bytes long`);
}

export async function hashPassword(password: string): Promise<string> {
  checkPasswordLength(password);
  return hash(password, options);
}

let dummy: Promise<string> | undefined;

/** The hash an unknown user's password is verified against (same algorithm and parameters as real ones). */
export function dummyHash(): Promise<string> {
  dummy ??= hash('stead-dummy-password-never-matches', options);
  return dummy;
}

/**
 * Whether `password` matches `stored`; with `stored` undefined (no such user) a dummy hash is
 * verified instead and the answer is false. A password outside the bounds is false at once
 * (its length is no secret, and hashing a huge one is what the bound prevents).
 */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  const n = Buffer.byteLength(password, 'utf8');
  if (n < minPasswordBytes || n > maxPasswordBytes) return false;
  const target = stored ?? (await dummyHash());
  let ok = false;
  try {
    ok = await verify(target, password);
  } catch {
    ok = false;
  }
  return ok && stored !== undefined;
}
