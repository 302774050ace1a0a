import { ApiError } from './errors.js';

/**
 * Host names are DNS-like: labels of letters, digits, "-" and "_" separated by ".", at most
 * 253 bytes, each label 1-63 characters, no leading "-". This excludes "/", "..", control
 * characters, spaces and anything that could become a path segment or a log injection.
 */
const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*$/;

export function isValidHostName(name: unknown): name is string {
  return typeof name === 'string' && Buffer.byteLength(name, 'utf8') <= 253 && hostNamePattern.test(name);
}

/** Throws INVALID_HOST_NAME (400) unless `name` is a valid host name. */
export function assertHostName(name: unknown): asserts name is string {
  if (!isValidHostName(name)) {
    throw new ApiError('INVALID_HOST_NAME', 'host must be a DNS-like name: labels of letters, digits, "-" or "_" separated by ".", at most 253 bytes');
  }
}

/** The JSON Schema fragment matching isValidHostName. */
export const hostNamePatternSource = hostNamePattern.source;
