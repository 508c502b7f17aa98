/**
 * The API's failures: an HTTP status, a stable code (README, "Errors") and one sentence
 * saying what to do. Turned into `{ code, message, requestId }` in one place (app.ts).
 */

export const API_ERROR_STATUS = {
  REQUEST_INVALID: 400,
  UNSUPPORTED_FORMAT: 400,
  EMPTY_INPUT: 400,
  UNAUTHORIZED: 401,
  FRONT_DOOR_REQUIRED: 403,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  REQUEST_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  CONFIG_INVALID: 500,
  STORAGE_UNAVAILABLE: 503,
  THROTTLED: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: (typeof API_ERROR_STATUS)[ApiErrorCode];
  readonly details: Record<string, unknown>;

  constructor(code: ApiErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = API_ERROR_STATUS[code];
    this.details = details;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
