/** An error from the API (`{code, message}`), or from reaching it (`code` "network", "http_<status>", …). */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }

  /** Wraps anything thrown or returned as an error into an ApiError. */
  static from(e: unknown, fallbackCode = "error"): ApiError {
    if (e instanceof ApiError) return e;
    if (e && typeof e === "object") {
      const o = e as { code?: unknown; message?: unknown };
      if (typeof o.code === "string" && typeof o.message === "string") return new ApiError(o.code, o.message);
      if (e instanceof Error) return new ApiError(fallbackCode, e.message);
    }
    if (typeof e === "string") {
      // Tauri may hand the serialized error back as a JSON string.
      try {
        const parsed: unknown = JSON.parse(e);
        if (parsed && typeof parsed === "object") return ApiError.from(parsed, fallbackCode);
      } catch {
        /* not JSON */
      }
      return new ApiError(fallbackCode, e);
    }
    return new ApiError(fallbackCode, String(e));
  }
}
