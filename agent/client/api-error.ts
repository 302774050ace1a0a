/** Errors the agent client raises for HTTP answers, with a stable code and retry advice. */

/** The server answered with an error status (or an answer the agent cannot use). */
export class ApiError extends Error {
  constructor(
    /** The server's error code ("FORBIDDEN", "REVOKED", …) or one of ours ("BAD_RESPONSE", "BLOB_CORRUPT"). */
    readonly code: string,
    /** HTTP status; 0 when the answer was unusable rather than an error status. */
    readonly status: number,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Worth retrying later: server errors, throttling, timeouts, and unusable answers. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }

  /** The server refuses this identity (revoked, unknown key, not approved): retrying will not help. */
  get identityRefused(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** Builds an ApiError from an error response body `{ error: { code, message, requestId } }`. */
export function apiErrorFrom(status: number, body: Buffer, what: string): ApiError {
  let code = `HTTP_${status}`;
  let message = `${what}: HTTP ${status}`;
  let requestId: string | undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } };
    const e = parsed.error;
    if (e && typeof e.code === 'string') code = e.code;
    if (e && typeof e.message === 'string') message = `${what}: ${e.message}`;
    if (e && typeof e.requestId === 'string') requestId = e.requestId;
  } catch {
    // not JSON: keep the status-based message
  }
  return new ApiError(code, status, message, requestId);
}
