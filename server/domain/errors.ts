/**
 * The server's error type: a stable machine-readable `code`, the HTTP status it maps to,
 * a message a person can act on, and optional structured details. Thrown by services and
 * the API edge alike; error-middleware turns it into `{ error: { code, message, requestId, details? } }`.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'SCHEMA_INVALID'
  | 'INVALID_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHENTICATED'
  | 'BAD_SIGNATURE'
  | 'CLOCK_SKEW'
  | 'NONCE_REUSED'
  | 'FORBIDDEN'
  | 'HOST_PENDING'
  | 'HOST_REVOKED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_HOST_NAME'
  | 'INVALID_KEY'
  | 'TOKEN_INVALID'
  | 'ENROLLMENT_SLOTS_FULL'
  | 'REVISION_INVALID'
  | 'NO_LIVE_REVISION'
  | 'AMBIGUOUS_REVISION'
  | 'COMPILE_FAILED'
  | 'RANGE_NOT_SATISFIABLE'
  | 'METHOD_NOT_ALLOWED'
  | 'RATE_LIMITED'
  | 'SERVER_BUSY'
  | 'UNSUPPORTED_PROTOCOL'
  | 'INTERNAL'
  | 'ROLLOUT_ACTIVE'
  | 'FULL_REPORT_REQUIRED';

const statusOf: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  SCHEMA_INVALID: 400,
  INVALID_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHENTICATED: 401,
  BAD_SIGNATURE: 401,
  CLOCK_SKEW: 401,
  NONCE_REUSED: 401,
  FORBIDDEN: 403,
  HOST_PENDING: 403,
  HOST_REVOKED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_HOST_NAME: 400,
  INVALID_KEY: 400,
  TOKEN_INVALID: 403,
  ENROLLMENT_SLOTS_FULL: 409,
  REVISION_INVALID: 422,
  NO_LIVE_REVISION: 404,
  AMBIGUOUS_REVISION: 409,
  COMPILE_FAILED: 422,
  RANGE_NOT_SATISFIABLE: 416,
  METHOD_NOT_ALLOWED: 405,
  RATE_LIMITED: 429,
  SERVER_BUSY: 503,
  UNSUPPORTED_PROTOCOL: 400,
  INTERNAL: 500,
  ROLLOUT_ACTIVE: 409,
  // A compact report the server cannot check (ADR 0021): not 409, which agents read as "already stored".
  FULL_REPORT_REQUIRED: 422,
};

/** An error with a stable code that knows its HTTP response. */
export class ApiError extends Error {
  readonly status: number;
  /** Seconds the client should wait before retrying (sent as Retry-After on 429 and 503). */
  retryAfterSeconds?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = statusOf[code];
  }

  /** This error with a Retry-After of `seconds` (at least 1). */
  retryAfter(seconds: number): this {
    this.retryAfterSeconds = Math.max(1, Math.ceil(seconds));
    return this;
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
