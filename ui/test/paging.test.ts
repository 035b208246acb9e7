import { describe, expect, it, vi } from "vitest";
import { createRoot } from "solid-js";
import { EventPages, type PageFetcher } from "../src/screens/changes/paging";
import type { EventPage, EventSummary } from "../src/api";

function ev(id: number): EventSummary {
  return {
    id,
    txn_row: Math.ceil(id / 2),
    source: "demo",
    txid: String(id),
    position: "0/0",
    committed_at: "2026-11-02T09:00:00.000Z",
    context: {},
    schema: "public",
    table: "shp",
    op: "update",
    key: [["id", String(id)]],
    changed: ["st"],
    summary: "st: P → X",
  };
}

/** A backend of `n` events with ids 1..n (index i = id i+1), counting calls. */
function fake(n: { value: number }) {
  const page = (start: number, limit: number): EventPage => {
    const s = Math.max(0, Math.min(start, n.value));
    const events = [];
    for (let i = s; i < Math.min(n.value, s + limit); i++) events.push(ev(i + 1));
    return { events, first_index: s, total: n.value, has_more_before: s > 0, has_more_after: s + events.length < n.value };
  };
  const f = {
    count: vi.fn(async () => ({ count: n.value, exact: true, last_event_id: n.value })),
    list: vi.fn(async (r: { after_id?: number | null; before_id?: number | null; limit?: number | null }) => {
      const limit = r.limit ?? 100;
      if (r.before_id != null) {
        const end = r.before_id - 1;
        return page(Math.max(0, end - limit), Math.min(limit, end));
      }
      return page(r.after_id ?? 0, limit);
    }),
    at: vi.fn(async (r: { index: number; limit?: number | null }) => page(r.index, r.limit ?? 100)),
  };
  return f satisfies PageFetcher;
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("event pages", () => {
  it("shows the newest first and reaches the last (oldest) of a million rows", async () => {
    await createRoot(async (dispose) => {
      const n = { value: 1_000_000 };
      const f = fake(n);
      const p = new EventPages(f, {}, true, 200);
      await p.reset();
      expect(p.count()).toBe(1_000_000);
      p.ensure(0, 30);
      await vi.waitFor(() => expect(p.row(0)?.id).toBe(1_000_000));
      expect(p.row(30)?.id).toBe(1_000_000 - 30);
      // Jump to the end: the last row is the oldest event.
      p.ensure(999_970, 999_999);
      await vi.waitFor(() => expect(p.row(999_999)?.id).toBe(1));
      expect(p.row(999_970)?.id).toBe(30);
      expect(p.row(1_000_000)).toBeUndefined();
      dispose();
    });
  });

  it("reads a block next to a loaded one by keyset, others by position", async () => {
    await createRoot(async (dispose) => {
      const f = fake({ value: 1000 });
      const p = new EventPages(f, {}, false, 100);
      await p.reset();
      p.ensure(0, 10);
      await vi.waitFor(() => expect(p.row(0)?.id).toBe(1));
      // Block 0 by position, then block 1 (prefetched neighbour) by keyset after block 0.
      await vi.waitFor(() => expect(p.row(150)?.id).toBe(151));
      expect(f.list).toHaveBeenCalledWith({ filter: {}, after_id: 100, limit: 100 });
      // A far jump goes by position.
      f.at.mockClear();
      p.ensure(700, 720);
      await vi.waitFor(() => expect(p.row(705)?.id).toBe(706));
      expect(f.at).toHaveBeenCalledWith({ filter: {}, index: 700, limit: 100 });
      // Scrolling up from there: block 6 is read before block 7, by keyset.
      await vi.waitFor(() => expect(p.row(650)?.id).toBe(651));
      expect(f.list).toHaveBeenCalledWith({ filter: {}, before_id: 701, limit: 100 });
      dispose();
    });
  });

  it("keeps only the blocks near the viewport", async () => {
    await createRoot(async (dispose) => {
      const f = fake({ value: 1_000_000 });
      const p = new EventPages(f, {}, true, 200);
      await p.reset();
      for (let r = 0; r < 1_000_000; r += 50_000) {
        p.ensure(r, r + 40);
        await vi.waitFor(() => expect(p.row(r + 40)).toBeDefined());
      }
      expect(p.cachedBlocks().length).toBeLessThanOrEqual(16);
      dispose();
    });
  });

  it("follows new events: the newest-first mapping moves, cached blocks stay", async () => {
    await createRoot(async (dispose) => {
      const n = { value: 450 };
      const f = fake(n);
      const p = new EventPages(f, {}, true, 200);
      await p.reset();
      p.ensure(0, 20);
      await vi.waitFor(() => expect(p.row(0)?.id).toBe(450));
      n.value = 455;
      const added = await p.extend();
      expect(added).toBe(5);
      expect(p.count()).toBe(455);
      await vi.waitFor(() => expect(p.row(0)?.id).toBe(455));
      expect(p.row(5)?.id).toBe(450);
      dispose();
    });
  });

  it("waits for an exact count and reports progress", async () => {
    await createRoot(async (dispose) => {
      const f = fake({ value: 10 });
      let calls = 0;
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      f.count.mockImplementation(async () => {
        if (++calls === 1) return { count: 3, exact: false, last_event_id: 5 };
        await gate;
        return calls < 3 ? { count: 6, exact: false, last_event_id: 7 } : { count: 10, exact: true, last_event_id: 10 };
      });
      const p = new EventPages(f, {}, true, 200);
      const done = p.reset();
      await settle();
      expect(p.count()).toBeNull();
      expect(p.counted()).toBe(3);
      open();
      await done;
      expect(p.counted()).toBeNull();
      expect(p.count()).toBe(10);
      expect(calls).toBe(3);
      dispose();
    });
  });

  it("reports errors and ignores answers for an old filter", async () => {
    await createRoot(async (dispose) => {
      const f = fake({ value: 10 });
      f.count.mockRejectedValueOnce({ code: "bad_request", message: "filter.search: too short" });
      const p = new EventPages(f, { search: "ab" }, true, 200);
      await p.reset();
      expect(p.error()).toMatchObject({ code: "bad_request" });
      await p.reset({}, true);
      expect(p.error()).toBeNull();
      expect(p.count()).toBe(10);
      dispose();
    });
  });
});
