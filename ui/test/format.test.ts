import { describe, expect, it } from "vitest";
import { filterFromQuery, isFiltered } from "../src/screens/changes/filters";
import { contextActor, formatBytes, formatCount, formatKey, formatTimeZoned, isoToLocalInput, localInputToIso, visible, zoneLabel } from "../src/lib/format";
import { columnLabel, setLabelLookup } from "../src/lib/labels";

describe("filters from the URL", () => {
  it("maps query parameters to the API's filter, dropping unknown values", () => {
    expect(filterFromQuery({})).toEqual({});
    expect(filterFromQuery({ source: "demo", table: "public.shp", op: "update", actor: "ana", column: "st", q: "Rotterdam", since: "2026-11-02T00:00:00.000Z", txid: "7" })).toEqual({
      source: "demo",
      table: "public.shp",
      op: "update",
      context: "ana",
      column: "st",
      search: "Rotterdam",
      since: "2026-11-02T00:00:00.000Z",
      txid: "7",
    });
    expect(filterFromQuery({ op: "drop", group: "txn", order: "oldest" })).toEqual({});
    expect(isFiltered({})).toBe(false);
    expect(isFiltered({ op: "insert" })).toBe(true);
  });
});

describe("formatting", () => {
  it("formats keys, sizes, counts and actors", () => {
    expect(formatKey([["id", "5001"]])).toBe("5001");
    expect(formatKey([["shp_id", "5001"], ["ln_no", null]])).toBe("shp_id=5001 ln_no=NULL");
    expect(formatBytes(1_200_000_000)).toBe("1.1 GB");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(null)).toBe("—");
    expect(formatCount(1_000_000)).toBe("1,000,000");
    expect(contextActor({ reason: "fix", actor: "ana" })).toBe("ana");
    expect(contextActor({ endpoint: "/api" })).toBe("/api");
    expect(contextActor({})).toBe("");
  });

  it("round-trips datetime-local values through UTC", () => {
    const iso = localInputToIso("2026-11-02T09:14");
    expect(iso).not.toBeNull();
    expect(isoToLocalInput(iso)).toBe("2026-11-02T09:14");
    expect(localInputToIso("")).toBeNull();
  });
});

describe("column labels", () => {
  it("shows the raw name until a label map exists, then the label with the raw name kept", () => {
    const c = { source: "demo", schema: "public", table: "shp", column: "st" };
    expect(columnLabel(c)).toEqual({ label: "st", raw: "st" });
    setLabelLookup((x) => (x.column === "st" ? { label: "Shipment status" } : undefined));
    expect(columnLabel(c)).toMatchObject({ label: "Shipment status", raw: "st" });
    setLabelLookup(() => undefined);
  });
});

describe("audited text shown safely", () => {
  it("shows bidirectional controls as escapes and leaves other text alone", () => {
    expect(visible("invoice\u202efdp.exe")).toBe("invoice\\u{202e}fdp.exe");
    expect(visible("\u2066a\u2069 \u200f")).toBe("\\u{2066}a\\u{2069} \\u{200f}");
    expect(visible("Zürich · שלום")).toBe("Zürich · שלום");
    expect(visible(null)).toBeNull();
  });

  it("labels local times with their zone", () => {
    expect(zoneLabel(new Date("2026-11-02T09:14:03Z"))).toMatch(/^UTC([+−]\d\d:\d\d)?$/);
    expect(formatTimeZoned("2026-11-02T09:14:03.120Z")).toMatch(/^2026-11-0\d \d\d:\d\d:03 UTC/);
    expect(formatTimeZoned(null)).toBe("—");
  });
});
