import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { ApiError, call, isTauri, setTransport, subscribe, transport } from "../src/transport";
import { createHttpTransport, takeToken, type HttpEnv } from "../src/transport/http";
import type { ApiEvent } from "../src/api";

afterEach(() => {
  clearMocks();
  delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
  setTransport(null);
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe("transport selection", () => {
  it("uses HTTP in a plain browser", async () => {
    expect(isTauri()).toBe(false);
    vi.stubGlobal("EventSource", class {});
    expect((await transport()).kind).toBe("http");
  });

  it("uses Tauri IPC when the shell injected __TAURI_INTERNALS__", async () => {
    const seen: Array<{ cmd: string; payload: unknown }> = [];
    mockIPC((cmd, payload) => {
      seen.push({ cmd, payload });
      if (cmd === "rpc") return { sources: [] };
      return null;
    });
    expect(isTauri()).toBe(true);
    expect((await transport()).kind).toBe("tauri");
    const res = await call("list_sources", {});
    expect(res).toEqual({ sources: [] });
    expect(seen).toEqual([{ cmd: "rpc", payload: { command: "list_sources", args: {} } }]);
  });

  it("turns a Tauri error into an ApiError", async () => {
    mockIPC(() => {
      throw { code: "not_found", message: "no transaction 9 in source demo" };
    });
    const err = await call("transaction", { source: "demo", txid: "9" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("not_found");
    expect((err as ApiError).message).toBe("no transaction 9 in source demo");
  });

  it("receives events through the Tauri subscribe channel", async () => {
    let channel: { id: number } | null = null;
    mockIPC((cmd, payload) => {
      if (cmd === "subscribe") channel = (payload as { channel: { id: number } }).channel;
      return null;
    });
    const got: ApiEvent[] = [];
    subscribe((e) => got.push(e));
    await vi.waitFor(() => expect(channel).not.toBeNull());
    const ev: ApiEvent = { type: "events_added", source: "demo", last_event_id: 10 };
    const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;
    internals.runCallback(channel!.id, { index: 0, message: ev });
    expect(got).toEqual([ev]);
  });
});

function env(hash: string, fetchImpl: typeof fetch) {
  const replaced: string[] = [];
  const store = new Map<string, string>();
  const sources: string[] = [];
  const e: HttpEnv = {
    fetch: fetchImpl,
    EventSource: class {
      onopen: unknown;
      onerror: unknown;
      onmessage: unknown;
      readyState = 0;
      constructor(url: string) {
        sources.push(url);
      }
      close() {}
    } as unknown as typeof EventSource,
    location: { hash, pathname: "/", search: "" },
    history: { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) },
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
  };
  return { e, replaced, store, sources };
}

describe("browser transport", () => {
  it("takes the token from the hash, hides it and keeps it for reloads", () => {
    const { e, replaced, store } = env("#token=s3cr%2Ft", vi.fn());
    expect(takeToken(e)).toBe("s3cr/t");
    expect(replaced).toEqual(["/#/"]);
    expect([...store.values()]).toEqual(["s3cr/t"]);
    // A reload has no token in the URL: the stored one is used.
    const again = { ...e, location: { hash: "#/changes", pathname: "/", search: "" } };
    expect(takeToken(again)).toBe("s3cr/t");
  });

  it("also takes a token from the query and keeps the rest of the address", () => {
    const { e, replaced } = env("#/sources", vi.fn());
    e.location = { hash: "#/sources", pathname: "/app", search: "?token=q1&mock" };
    expect(takeToken(e)).toBe("q1");
    expect(replaced).toEqual(["/app?mock=#/sources"]);
  });

  it("POSTs JSON with the bearer token and returns the body", async () => {
    const fetchMock = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => new Response(JSON.stringify({ count: 3, max_id: 9 }), { status: 200 }));
    const { e, sources } = env("#token=abc", fetchMock as unknown as typeof fetch);
    const t = createHttpTransport(e);
    const res = await t.call("count_events", { filter: { table: "shp" } });
    expect(res).toEqual({ count: 3, max_id: 9 });
    // First the token buys the session cookie (for new tabs, reloads and downloads).
    const [sessionUrl, sessionInit] = fetchMock.mock.calls[0]!;
    expect(sessionUrl).toBe("/api/session");
    expect((sessionInit?.headers as Record<string, string>).Authorization).toBe("Bearer abc");
    const [url, init] = fetchMock.mock.calls[1]!;
    expect(url).toBe("/api/count_events");
    expect(init?.method).toBe("POST");
    expect((init?.headers as Record<string, string>).Authorization).toBe("Bearer abc");
    expect((init?.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
    expect(JSON.parse(String(init?.body))).toEqual({ filter: { table: "shp" } });
    t.connect(() => {}, () => {});
    expect(sources).toEqual(["/api/events?token=abc"]);
  });

  it("without a token (a tab opened from a link) relies on the session cookie", async () => {
    const fetchMock = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => new Response("{}", { status: 200 }));
    const { e, sources } = env("#/txn/demo/7", fetchMock as unknown as typeof fetch);
    const t = createHttpTransport(e);
    await t.call("transaction", { source: "demo", txid: "7" });
    expect(fetchMock.mock.calls.map((c) => c[0])).toEqual(["/api/transaction"]);
    expect((fetchMock.mock.calls[0]![1]?.headers as Record<string, string>).Authorization).toBeUndefined();
    t.connect(() => {}, () => {});
    expect(sources).toEqual(["/api/events"]);
  });

  it("throws the server's {code, message} as an ApiError", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ code: "bad_key", message: "table shp: the key has 1 column(s)" }), { status: 400 }));
    const t = createHttpTransport(env("#token=abc", fetchMock as unknown as typeof fetch).e);
    const err = await t.call("record_history", { source: "demo", table: "shp", key: [] }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "bad_key", message: "table shp: the key has 1 column(s)" });
  });

  it("explains a refused token and an unreachable server", async () => {
    const refused = createHttpTransport(env("", (async () => new Response("", { status: 401 })) as unknown as typeof fetch).e);
    await expect(refused.call("list_sources", {})).rejects.toMatchObject({ code: "unauthorized" });
    const down = createHttpTransport(
      env("", (async () => {
        throw new TypeError("Failed to fetch");
      }) as unknown as typeof fetch).e,
    );
    await expect(down.call("list_sources", {})).rejects.toMatchObject({ code: "network" });
  });

  it("parses server-sent events", () => {
    let es: { onmessage: (m: { data: string }) => void } | null = null;
    const { e } = env("", vi.fn());
    e.EventSource = class {
      onmessage: ((m: { data: string }) => void) | null = null;
      readyState = 1;
      constructor() {
        es = this as never;
      }
      close() {}
    } as unknown as typeof EventSource;
    const got: ApiEvent[] = [];
    createHttpTransport(e).connect((ev) => got.push(ev), () => {});
    es!.onmessage({ data: '{"type":"source_state","source":"demo","state":"live","message":null}' });
    es!.onmessage({ data: "not json" });
    expect(got).toEqual([{ type: "source_state", source: "demo", state: "live", message: null }]);
  });
});

describe("ApiError.from", () => {
  it("accepts objects, JSON strings and plain strings", () => {
    expect(ApiError.from({ code: "x", message: "y" })).toMatchObject({ code: "x", message: "y" });
    expect(ApiError.from('{"code":"x","message":"y"}')).toMatchObject({ code: "x", message: "y" });
    expect(ApiError.from("boom")).toMatchObject({ code: "error", message: "boom" });
  });
});

beforeEach(() => {
  setTransport(null);
});

describe("event stream", () => {
  it("reports a reconnect as missed events", async () => {
    let state!: (s: "connecting" | "open" | "closed") => void;
    const t = {
      kind: "mock" as const,
      call: async () => ({}),
      connect: (_on: (e: ApiEvent) => void, onState: typeof state) => {
        state = onState;
        return () => {};
      },
    };
    setTransport(t);
    const got: ApiEvent[] = [];
    subscribe((e) => got.push(e));
    await vi.waitFor(() => expect(state).toBeDefined());
    state("open");
    expect(got).toEqual([]);
    state("connecting");
    state("open");
    expect(got).toEqual([{ type: "lagged", missed: 0 }]);
  });
});
