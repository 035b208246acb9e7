import { afterEach, describe, expect, it, vi } from "vitest";
import { render } from "solid-js/web";
import { EventRow } from "../src/components/EventRow";
import { FieldChanges } from "../src/components/FieldChanges";
import { slotWarning } from "../src/screens/sources/SourcesScreen";
import { OpenRecordDialog } from "../src/components/OpenRecordDialog";
import { setTransport } from "../src/transport";
import type { EventSummary, SourceInfo } from "../src/api";

const XSS = '<img src=x onerror="window.__pwned=1">';
let dispose: (() => void) | null = null;
afterEach(() => {
  dispose?.();
  dispose = null;
  document.body.innerHTML = "";
});
function mount(f: () => unknown) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  dispose = render(f as never, el);
  return el;
}

const hostile: EventSummary = {
  id: 7,
  txn_row: 3,
  source: "<b>src</b>",
  txid: "<i>1</i>",
  position: "0/1",
  committed_at: "2026-11-02T09:14:03.120Z",
  context: { actor: XSS },
  schema: "public",
  table: "<script>t</script>",
  op: "update",
  key: [["id", XSS]],
  changed: ["st"],
  summary: `st: P → ${XSS}`,
};

describe("EventRow", () => {
  it("renders every audited string as text", () => {
    const el = mount(() => <EventRow event={hostile} index={0} selected={false} onOpen={() => {}} onSelect={() => {}} />);
    expect(el.querySelector("img, script, b, i")).toBeNull();
    expect(el.textContent).toContain(XSS);
    expect(el.textContent).toContain("<script>t</script>");
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("opens the record on click and links the transaction by its cache row", () => {
    const open = vi.fn();
    const el = mount(() => <EventRow event={{ ...hostile, source: "demo", table: "shp", key: [["id", "5001"]] }} index={4} selected onOpen={open} onSelect={() => {}} />);
    const row = el.querySelector<HTMLElement>("[data-testid=event-row]")!;
    expect(row.getAttribute("aria-selected")).toBe("true");
    row.querySelector<HTMLElement>("[data-testid=row-link]")!.click();
    expect(open).toHaveBeenCalledWith(expect.objectContaining({ id: 7 }), 4);
    expect(el.querySelector("[data-testid=txn-link]")!.getAttribute("href")).toBe("#/txn/demo/%3Ci%3E1%3C%2Fi%3E?row=3");
    // The row is a real link to the record, so it opens in a new tab too.
    expect(el.querySelector("[data-testid=row-link]")!.getAttribute("href")).toBe("#/record/demo/public.shp/5001");
  });

  it("shows bidirectional controls as escapes instead of applying them", () => {
    const rlo = "\u202e";
    const el = mount(() => (
      <EventRow event={{ ...hostile, key: [["name", `invoice${rlo}fdp.exe`]], summary: `note: a → ${rlo}b`, context: { actor: `ana${rlo}` } }} index={0} selected={false} onOpen={() => {}} onSelect={() => {}} />
    ));
    expect(el.textContent).not.toContain(rlo);
    expect(el.querySelector(".key")!.textContent).toBe("invoice\\u{202e}fdp.exe");
    expect(el.querySelector(".actor")!.textContent).toBe("ana\\u{202e}");
    // The tooltip holds the whole key and the actor, for when the columns cut them.
    const title = el.querySelector("[data-testid=row-link]")!.getAttribute("title")!;
    expect(title).toContain("name = invoice\\u{202e}fdp.exe");
    expect(title).toContain("actor: ana\\u{202e}");
  });

  it("calls a SQLite statement group by that name, not a transaction", () => {
    const el = mount(() => <EventRow event={{ ...hostile, txid: "57", grouping: "statement" }} index={0} selected={false} onOpen={() => {}} onSelect={() => {}} />);
    expect(el.querySelector(".tx")!.getAttribute("title")).toMatch(/^statement group \(not a whole transaction\) 57 /);
    const plain = mount(() => <EventRow event={{ ...hostile, txid: "58" }} index={0} selected={false} onOpen={() => {}} onSelect={() => {}} />);
    expect(plain.querySelector(".tx")!.getAttribute("title")).toMatch(/^transaction 58 /);
  });

  it("shows a placeholder while its page loads", () => {
    const el = mount(() => <EventRow event={undefined} index={0} selected={false} onOpen={() => {}} onSelect={() => {}} />);
    expect(el.querySelector("[data-testid=event-row-loading]")).not.toBeNull();
  });
});

describe("OpenRecordDialog", () => {
  it("leaves the spaces around a pasted key out", async () => {
    setTransport({
      kind: "mock",
      call: async () => ({ tables: [{ source: "demo", schema: "main", table: "shp", qualified: "main.shp", events: 1, columns: [{ name: "id", type: "INTEGER", key: true }] }] }),
      connect: () => () => {},
    });
    const open = vi.fn();
    const el = mount(() => <OpenRecordDialog onClose={() => {}} onOpen={open} />);
    await vi.waitFor(() => expect(document.querySelector("[data-testid=open-record-key-id]")).not.toBeNull());
    const input = document.querySelector<HTMLInputElement>("[data-testid=open-record-key-id]")!;
    input.value = "  1007 ";
    input.dispatchEvent(new InputEvent("input", { bubbles: true }));
    document.querySelector<HTMLButtonElement>("[data-testid=open-record-go]")!.click();
    expect(open).toHaveBeenCalledWith("#/record/demo/main.shp/1007");
    expect(el).toBeDefined();
    setTransport(null);
  });
});

describe("FieldChanges", () => {
  it("puts changed fields first, folds the unchanged ones and loads them on demand", async () => {
    const load = vi.fn(async () => [{ column: "carrier", type: "text", value: XSS }]);
    const el = mount(() => (
      <FieldChanges
        source="demo"
        schema="public"
        table="shp"
        changes={[{ column: "st", type: "text", old: "P", new: "X", diff: { kind: "replaced", old: "P", new: "X" }, inferred: true, unknown: false }]}
        unchanged={load}
        unchangedCount={1}
        layout="inline"
      />
    ));
    expect(el.querySelectorAll("[data-testid=field-change]").length).toBe(1);
    expect(el.querySelector("[data-testid=inferred-badge]")?.getAttribute("title")).toMatch(/filled it from the record's previous version/);
    expect(el.querySelector("[data-testid=field-unchanged]")).toBeNull();
    el.querySelector<HTMLButtonElement>("[data-testid=toggle-unchanged]")!.click();
    await vi.waitFor(() => expect(el.querySelector("[data-testid=field-unchanged]")).not.toBeNull());
    expect(load).toHaveBeenCalledTimes(1);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("[data-testid=field-unchanged]")!.textContent).toContain(XSS);
  });
});

describe("slot warnings", () => {
  const base: SourceInfo = {
    name: "prod",
    kind: "postgres",
    target: "postgres://db/x",
    position: "0/1",
    paused: false,
    state: "live",
    message: null,
    events_stored: 1,
    events_per_sec: null,
    behind: null,
    task: null,
    slot: null,
    warnings: [],
  };
  const own = { slot: "rowtrail_prod", active: true, wal_status: "reserved", retained_bytes: 10, lag_bytes: 0, confirmed_flush: "0/1", lost: false, warn: false };
  const health = (o: typeof own | null) => ({ slot: "rowtrail_prod", own: o, others: [], error: null, warn_threshold_bytes: 1 << 30, capture_problems: [] });

  it("says nothing when the slot is healthy or unknown", () => {
    expect(slotWarning(base)).toBeNull();
    expect(slotWarning({ ...base, slot: health(own) })).toBeNull();
    expect(slotWarning({ ...base, slot: { ...health(null), error: "connection refused" } })).toBeNull();
  });

  it("warns about retained WAL, a lost slot and a missing slot", () => {
    expect(slotWarning({ ...base, slot: health({ ...own, warn: true, retained_bytes: 2 * 2 ** 30 }) })).toMatch(/retains 2\.0 GB of WAL/);
    expect(slotWarning({ ...base, slot: health({ ...own, lost: true, warn: true, wal_status: "lost" }) })).toMatch(/invalidated/);
    expect(slotWarning({ ...base, slot: health(null) })).toMatch(/no replication slot/);
  });
});
