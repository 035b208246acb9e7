import type { Transport, EventHandler, StreamState } from "./types";
import { ApiError } from "./errors";

const TOKEN_KEY = "rowtrail.token";
const NAMED_EVENTS = ["progress", "events_added", "source_state", "task_finished", "sources_changed", "lagged"];

export interface HttpEnv {
  fetch: typeof fetch;
  EventSource: typeof EventSource;
  location: Pick<Location, "hash" | "pathname" | "search">;
  history: Pick<History, "replaceState" | "state">;
  storage: Pick<Storage, "getItem" | "setItem">;
}

/**
 * Reads the token `rowtrail serve` prints in its URL (`#token=…`), removes it from the visible
 * URL and keeps it in session storage so a reload still works. (A new tab has neither: it
 * relies on the session cookie the first tab set, see {@link createHttpTransport}.)
 */
export function takeToken(env: Pick<HttpEnv, "location" | "history" | "storage">): string | null {
  const hash = env.location.hash.replace(/^#/, "");
  const m = /(?:^|[&?])token=([^&]*)/.exec(hash);
  // Also accept `?token=…` in the query, in case an address is written that way.
  const q = new URLSearchParams(env.location.search);
  const fromQuery = q.get("token");
  if (m || fromQuery !== null) {
    const token = m ? decodeURIComponent(m[1] ?? "") : (fromQuery ?? "");
    env.storage.setItem(TOKEN_KEY, token);
    // Keep a route that came with the token; drop only the token itself.
    let rest = m ? hash.replace(m[0], "").replace(/^[&?]/, "") : hash;
    if (rest && !rest.startsWith("/")) rest = "";
    q.delete("token");
    const search = q.toString() ? "?" + q.toString() : "";
    env.history.replaceState(env.history.state, "", env.location.pathname + search + (rest ? "#" + rest : "#/"));
    return token;
  }
  return env.storage.getItem(TOKEN_KEY);
}

/**
 * The browser face. With a token (from the address or this tab's session storage) it sends
 * `Authorization: Bearer …`, and first trades the token for the server's HttpOnly session
 * cookie (`POST /api/session`) so that tabs opened from links, reloads and file downloads work
 * without the token in their address. Without a token it relies on that cookie alone.
 */
export function createHttpTransport(env: HttpEnv): Transport {
  const token = takeToken(env);
  const headers = (): Record<string, string> => (token ? { Authorization: "Bearer " + token, "Content-Type": "application/json" } : { "Content-Type": "application/json" });
  // Calls wait for the cookie: a link opened in a new tab right away must find it set.
  const session: Promise<void> = token
    ? env
        .fetch("/api/session", { method: "POST", headers: { Authorization: "Bearer " + token } })
        .then(
          () => undefined,
          () => undefined,
        )
    : Promise.resolve();
  return {
    kind: "http",
    async call(command, args) {
      await session;
      let res: Response;
      try {
        res = await env.fetch("/api/" + encodeURIComponent(command), {
          method: "POST",
          headers: headers(),
          body: JSON.stringify(args ?? {}),
        });
      } catch (e) {
        throw new ApiError(
          "network",
          "Cannot reach the Rowtrail server (" + (e instanceof Error ? e.message : String(e)) + "). Is `rowtrail serve` still running?",
        );
      }
      const text = await res.text();
      let body: unknown = undefined;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      if (!res.ok) {
        if (res.status === 401) {
          throw new ApiError(
            "unauthorized",
            "The server does not know this page's token (it was started with a new one, or this tab never had it). Open the address `rowtrail serve` printed last, including its #token=… part.",
          );
        }
        if (body && typeof body === "object" && "code" in body && "message" in body) throw ApiError.from(body);
        if (res.status === 403) {
          throw new ApiError("unauthorized", "The server refused the request (403). Open the address `rowtrail serve` printed, including its #token=… part.");
        }
        throw new ApiError("http_" + res.status, "The server answered " + res.status + " " + res.statusText + (text ? ": " + text.slice(0, 200) : ""));
      }
      if (body === undefined && text) throw new ApiError("bad_response", "The server's answer to " + command + " is not JSON.");
      return body ?? {};
    },
    async download(path, query) {
      await session;
      const qs = new URLSearchParams(query).toString();
      // A plain download the browser saves as it arrives (the session cookie authenticates it):
      // the file is never held in the page's memory, whatever its size.
      const a = document.createElement("a");
      a.href = "/api/" + path + (qs ? "?" + qs : "");
      a.download = "";
      a.rel = "noopener";
      document.body.appendChild(a);
      a.click();
      a.remove();
    },
    connect(onEvent: EventHandler, onState: (s: StreamState) => void) {
      const es = new env.EventSource("/api/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
      onState("connecting");
      es.onopen = () => onState("open");
      es.onerror = () => onState(es.readyState === 2 ? "closed" : "connecting");
      const handle = (m: MessageEvent) => {
        try {
          onEvent(JSON.parse(String(m.data)));
        } catch {
          /* ignore malformed events */
        }
      };
      es.onmessage = handle;
      // Also accept events sent with an `event:` name (each carries its `type` in the data).
      if (typeof es.addEventListener === "function") for (const t of NAMED_EVENTS) es.addEventListener(t, handle as EventListener);
      return () => es.close();
    },
  };
}
