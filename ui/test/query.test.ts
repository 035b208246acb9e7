import { describe, expect, it, vi } from "vitest";
import { createRoot } from "solid-js";
import { QueryClient, tagsForEvent } from "../src/query/client";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

describe("query cache", () => {
  it("shares one call in flight between callers", async () => {
    const c = new QueryClient();
    const d = deferred<number>();
    const f = vi.fn(() => d.promise);
    const a = c.fetch("k", f);
    const b = c.fetch("k", f);
    d.resolve(7);
    expect(await a).toBe(7);
    expect(await b).toBe(7);
    expect(f).toHaveBeenCalledTimes(1);
    // Fresh data is served from the cache.
    expect(await c.fetch("k", f)).toBe(7);
    expect(f).toHaveBeenCalledTimes(1);
  });

  it("exposes loading, data and error through a signal", async () => {
    await createRoot(async (dispose) => {
      const c = new QueryClient();
      let fail = true;
      const w = c.watch("k", async () => {
        if (fail) throw { code: "connect", message: "refused" };
        return "ok";
      });
      expect(w.state().loading).toBe(true);
      await vi.waitFor(() => expect(w.state().loading).toBe(false));
      expect(w.state().error).toMatchObject({ code: "connect", message: "refused" });
      fail = false;
      c.invalidate(() => true);
      await vi.waitFor(() => expect(w.state().data).toBe("ok"));
      expect(w.state().error).toBeNull();
      dispose();
    });
  });

  it("refetches watched entries when an event touches their tags", async () => {
    const c = new QueryClient();
    let n = 0;
    const sources = c.watch("sources", async () => ++n, ["sources"]);
    let m = 0;
    const record = c.watch("history", async () => ++m, ["events:demo"]);
    let k = 0;
    const other = c.watch("other", async () => ++k, ["events:other"]);
    await vi.waitFor(() => expect(sources.state().data).toBe(1));
    await vi.waitFor(() => expect(record.state().data).toBe(1));
    await vi.waitFor(() => expect(other.state().data).toBe(1));

    c.handleEvent({ type: "events_added", source: "demo", last_event_id: 5 });
    await vi.waitFor(() => expect(sources.state().data).toBe(2));
    await vi.waitFor(() => expect(record.state().data).toBe(2));
    expect(other.state().data).toBe(1);

    c.handleEvent({ type: "source_state", source: "demo", state: "paused", message: null });
    await vi.waitFor(() => expect(sources.state().data).toBe(3));
    expect(record.state().data).toBe(2);

    // Progress events invalidate nothing.
    const progress = { type: "progress", task_id: 1, source: "demo", state: "catching_up", events: 10, transactions: 2, position: "0/1", behind: 5, events_per_sec: 3, message: null } as const;
    c.handleEvent(progress);
    expect(tagsForEvent(progress)).toEqual([]);
  });

  it("forgets unwatched entries on invalidation and keeps data while refetching", async () => {
    const c = new QueryClient();
    await c.fetch("a", async () => 1, ["events"]);
    expect(c.size()).toBe(1);
    c.invalidate(["events"]);
    expect(c.size()).toBe(0);

    const d = deferred<number>();
    let calls = 0;
    const w = c.watch("b", () => (++calls === 1 ? Promise.resolve(1) : d.promise), ["events"]);
    await vi.waitFor(() => expect(w.state().data).toBe(1));
    c.invalidate(["events"]);
    expect(w.state()).toMatchObject({ data: 1, loading: true });
    d.resolve(2);
    await vi.waitFor(() => expect(w.state()).toMatchObject({ data: 2, loading: false }));
    w.release();
  });

  it("ignores an answer overtaken by a newer call", async () => {
    const c = new QueryClient();
    const first = deferred<string>();
    const second = deferred<string>();
    let i = 0;
    const w = c.watch("k", () => (i++ === 0 ? first.promise : second.promise), ["t"]);
    c.invalidate(["t"]);
    second.resolve("new");
    await vi.waitFor(() => expect(w.state().data).toBe("new"));
    first.resolve("old");
    await new Promise((r) => setTimeout(r, 0));
    expect(w.state().data).toBe("new");
  });
});

describe("batched invalidation", () => {
  it("refetches once for a burst of events", async () => {
    const c = new QueryClient();
    let n = 0;
    const w = c.watch("sources", async () => ++n, ["sources"]);
    await vi.waitFor(() => expect(w.state().data).toBe(1));
    const handle = c.batchedHandler(30);
    for (let i = 0; i < 20; i++) handle({ type: "events_added", source: "demo", last_event_id: i });
    await new Promise((r) => setTimeout(r, 80));
    await vi.waitFor(() => expect(w.state().loading).toBe(false));
    expect(n).toBe(2);
    handle({ type: "lagged", missed: 3 });
    await vi.waitFor(() => expect(n).toBe(3));
  });
});
