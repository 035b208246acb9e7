import { afterEach, describe, expect, it, vi } from "vitest";
import { render } from "solid-js/web";
import { ChangesScreen } from "../src/screens/changes/ChangesScreen";
import { RouterContext } from "../src/app/context";
import { createRouter } from "../src/router";
import { setTransport } from "../src/transport";
import type { PageFetcher } from "../src/screens/changes/paging";
import type { EventPage, EventSummary } from "../src/api";

const N = 1_000_000;
function ev(id: number): EventSummary {
  return {
    id,
    txn_row: id,
    source: "demo",
    txid: String(id),
    position: "0/0",
    committed_at: "2026-11-02T09:00:00.000Z",
    context: { actor: "ana" },
    schema: "public",
    table: "shp",
    op: "update",
    key: [["id", String(id)]],
    changed: ["st"],
    summary: "st: P → X",
  };
}
const page = (start: number, limit: number): EventPage => {
  const events = [];
  for (let i = start; i < Math.min(N, start + limit); i++) events.push(ev(i + 1));
  return { events, first_index: start, total: N, has_more_before: start > 0, has_more_after: start + limit < N };
};
const fetcher: PageFetcher = {
  count: async () => ({ count: N, exact: true, last_event_id: N }),
  list: async (r) => (r.before_id != null ? page(Math.max(0, r.before_id - 1 - (r.limit ?? 100)), r.limit ?? 100) : page(r.after_id ?? 0, r.limit ?? 100)),
  at: async (r) => page(r.index, r.limit ?? 100),
};

let dispose: (() => void) | null = null;
afterEach(() => {
  dispose?.();
  dispose = null;
  document.body.innerHTML = "";
  setTransport(null);
  location.hash = "";
});

const key = (k: string) => document.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
const selected = () => document.querySelector("[data-testid=event-row][aria-selected=true]") as HTMLElement | null;

// jsdom has no layout: give the list a 600 px viewport.
const sizes = { offsetHeight: 600, offsetWidth: 1000, clientHeight: 600, clientWidth: 1000 };
for (const [k, v] of Object.entries(sizes)) Object.defineProperty(HTMLElement.prototype, k, { configurable: true, get: () => v });
// …and a scroll position that fires scroll events.
const scrollTops = new WeakMap<Element, number>();
Object.defineProperty(Element.prototype, "scrollTop", {
  configurable: true,
  get(this: Element) {
    return scrollTops.get(this) ?? 0;
  },
  set(this: Element, v: number) {
    scrollTops.set(this, v);
    this.dispatchEvent(new Event("scroll"));
  },
});

describe("Changes screen keyboard", () => {
  it("moves with j/k, jumps to the last of a million rows with End, opens with Enter", async () => {
    // Queries other than the list (sources, tables) go to a transport that answers empty lists.
    setTransport({ kind: "mock", call: async (c) => (c === "list_sources" ? { sources: [] } : c === "list_tables" ? { tables: [] } : {}), connect: () => () => {} });
    location.hash = "#/changes";
    const el = document.createElement("div");
    document.body.appendChild(el);
    dispose = render(() => {
      const router = createRouter();
      return (
        <RouterContext.Provider value={router}>
          <ChangesScreen fetcher={fetcher} />
        </RouterContext.Provider>
      );
    }, el);
    await vi.waitFor(() => expect(document.querySelector("[data-testid=event-row]")).not.toBeNull());
    expect(document.querySelector("[data-testid=event-count]")!.textContent).toContain("1,000,000");
    key("j");
    await vi.waitFor(() => expect(selected()?.dataset.index).toBe("0"));
    expect(selected()!.dataset.id).toBe(String(N));
    key("j");
    key("j");
    key("k");
    await vi.waitFor(() => expect(selected()?.dataset.index).toBe("1"));
    key("End");
    // The list scrolled to the end of its (scaled) range and drew the last row there.
    const list = document.querySelector("[data-testid=changes-list]") as HTMLElement;
    expect(list.scrollTop).toBe(15_000_000 - 600);
    await vi.waitFor(() => expect(selected()?.dataset.index).toBe(String(N - 1)));
    expect(selected()!.dataset.id).toBe("1");
    key("/");
    expect((document.activeElement as HTMLElement).dataset.testid).toBe("filter-search");
    (document.activeElement as HTMLElement).dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect((document.activeElement as HTMLElement).dataset.testid).not.toBe("filter-search");
    key("Enter");
    await vi.waitFor(() => expect(location.hash).toBe("#/record/demo/public.shp/1"));
  });
});
