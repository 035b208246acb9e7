// Issue 12, item 22 on the diff views and the Record screen: a bidirectional control in an
// audited value, key, column or actor is shown as a visible escape (`\u{202e}`), never
// applied (an RTL override would make `invoice‮fdp.exe` read `invoiceexe.pdf`); and the
// Record screen's times carry their time zone, as the Changes list and Transaction screen do.
import { describe, expect, it, vi } from "vitest";
import { mount, screen } from "./mount";
import { DiffView } from "../src/components/DiffView";
import { FieldChanges } from "../src/components/FieldChanges";
import { RecordScreen } from "../src/screens/record/RecordScreen";
import { to } from "../src/router";
import { setTransport } from "../src/transport";
import { formatTimeUnder, zoneLabel } from "../src/lib/format";
import type { EventSummary, FieldChangeInfo, RecordHistory, ValueDiff } from "../src/api";

const RLO = "\u202e";
const ESC = "\\u{202e}";
/** Any bidirectional control a browser would apply. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Every piece of text a user can see or hover: text content and tooltips. */
function shownText(el: HTMLElement): string {
  const titles = Array.from(el.querySelectorAll<HTMLElement>("[title]")).map((e) => e.title);
  return [el.textContent ?? "", ...titles].join("\n");
}

describe("diff views show bidi controls as escapes", () => {
  const v = `invoice${RLO}fdp.exe`;
  const kinds: [ValueDiff, string | null][] = [
    [{ kind: "unchanged" }, v],
    [{ kind: "set", new: v }, null],
    [{ kind: "cleared", old: v }, null],
    [{ kind: "replaced", old: v, new: "report.pdf" }, null],
    [{ kind: "replaced", old: "report.pdf", new: v }, null],
    [{ kind: "unknown", new: v }, null],
    [{ kind: "deleted", old: v }, null],
    [{ kind: "text", spans: [{ op: "equal", text: "invoice " }, { op: "delete", text: v }, { op: "insert", text: `a${RLO}b` }] }, null],
    [{ kind: "lines", lines: [{ op: "equal", text: `${v}\n` }, { op: "insert", text: `new ${v}\n` }, { op: "changed", spans: [{ op: "delete", text: v }, { op: "insert", text: "x" }] }] }, null],
    [{ kind: "json", changes: [{ path: `/na${RLO}me`, change: { kind: "changed", old: v, new: { f: v } } }] }, null],
  ];
  kinds.forEach(([diff, value], i) => {
    for (const layout of ["inline", "split"] as const) {
      it(`${diff.kind} #${i} (${layout})`, () => {
        const el = mount(() => <DiffView diff={diff} layout={layout} value={value} />);
        const text = shownText(el);
        expect(text).not.toMatch(BIDI);
        expect(text).toContain(ESC);
      });
    }
  });

  it("an RTL override in an old and a new value renders as the escape", () => {
    const el = mount(() => <DiffView diff={{ kind: "replaced", old: v, new: `${RLO}cba` }} />);
    expect(el.querySelector("del")?.textContent).toBe("invoice\\u{202e}fdp.exe");
    expect(el.querySelector("ins")?.textContent).toBe("\\u{202e}cba");
  });

  it("FieldChanges: column names and unchanged values too", async () => {
    const c: FieldChangeInfo = { column: `fi${RLO}le`, type: "text", old: "a", new: v, diff: { kind: "replaced", old: "a", new: v }, inferred: false, unknown: false };
    const el = mount(() => (
      <FieldChanges source="prod" schema="public" table="doc" changes={[c]} unchanged={[{ column: `na${RLO}me`, type: "text", value: v }]} unchangedCount={1} layout="inline" />
    ));
    el.querySelector<HTMLButtonElement>("[data-testid=toggle-unchanged]")!.click();
    await vi.waitFor(() => expect(el.querySelector("[data-testid=field-unchanged]")).not.toBeNull());
    const text = shownText(el);
    expect(text).not.toMatch(BIDI);
    expect(text).toContain(`fi${ESC}le`);
    expect(text).toContain(`na${ESC}me`);
  });
});

const event = (id: number, op: EventSummary["op"], committed_at: string, actor: string): EventSummary => ({
  id,
  txn_row: id,
  source: "prod",
  txid: String(700 + id),
  position: "0/1953BA0",
  committed_at,
  context: { actor, reason: `re${RLO}fund` },
  schema: "public",
  table: "doc",
  op,
  key: [["name", `invoice${RLO}fdp.exe`]],
  changed: [],
  summary: "",
});

const history: RecordHistory = {
  source: "prod",
  schema: "public",
  table: "doc",
  qualified: "public.doc",
  key: [["name", `invoice${RLO}fdp.exe`]],
  key_columns: ["name"],
  gaps: [],
  columns: [
    { name: "name", type: "text", key: true },
    { name: "owner", type: "text", key: false },
  ],
  versions: [
    {
      number: 1,
      event: event(1, "insert", "2026-12-07T10:20:04.789Z", `ali${RLO}ce`),
      changes: [
        { column: "name", type: "text", old: null, new: `invoice${RLO}fdp.exe`, diff: { kind: "set", new: `invoice${RLO}fdp.exe` }, inferred: false, unknown: false },
        { column: "owner", type: "text", old: null, new: "alice", diff: { kind: "set", new: "alice" }, inferred: false, unknown: false },
      ],
      unchanged: 0,
      inferred: [],
      unknown_old: [],
    },
    {
      number: 2,
      event: event(2, "update", "2026-12-07T11:00:00Z", `mal${RLO}lory`),
      changes: [{ column: "owner", type: "text", old: null, new: `${RLO}yrollam`, diff: { kind: "unknown", new: `${RLO}yrollam` }, inferred: false, unknown: true }],
      unchanged: 1,
      inferred: [],
      unknown_old: [],
    },
  ],
};

function recordScreen(h: RecordHistory) {
  return screen(to.record("prod", "public.doc", [`invoice${RLO}fdp.exe`]), { record_history: h }, () => <RecordScreen />);
}

describe("Record screen", () => {
  it("shows bidi controls in keys, actors, context and values as escapes", async () => {
    const el = recordScreen(history);
    await vi.waitFor(() => expect(el.querySelector("[data-testid=version-panel][data-version='2']")).not.toBeNull());
    expect(el.querySelector("[data-testid=record-title]")?.textContent).toContain(`name = invoice${ESC}fdp.exe`);
    expect(el.querySelector("[data-testid=version-actor]")?.textContent).toBe(`by mal${ESC}lory`);
    expect(el.querySelector("[data-testid=version-actor]")?.getAttribute("title")).toContain(`re${ESC}fund`);
    expect(el.querySelector("[data-testid=version-item][data-version='1']")?.textContent).toContain(`ali${ESC}ce`);
    expect(el.querySelector("[data-testid=field-change] ins")?.textContent).toBe(`${ESC}yrollam`);
    expect(shownText(el)).not.toMatch(BIDI);

    // Comparing versions: the same.
    setTransport({
      kind: "mock",
      call: async (c) =>
        c === "record_history"
          ? history
          : c === "compare_versions"
            ? { changes: [{ column: "owner", type: "text", old: "alice", new: `${RLO}yrollam`, diff: { kind: "replaced", old: "alice", new: `${RLO}yrollam` }, inferred: false, unknown: false }], unchanged: [{ column: "name", type: "text", value: `invoice${RLO}fdp.exe` }] }
            : {},
      connect: () => () => {},
    });
    for (const n of ["1", "2"]) el.querySelector<HTMLInputElement>(`[data-testid=version-item][data-version='${n}'] [data-testid=compare-pick]`)!.click();
    await vi.waitFor(() => expect(el.querySelector("[data-testid=compare-panel] [data-testid=field-change]")).not.toBeNull());
    el.querySelector<HTMLButtonElement>("[data-testid=compare-panel] [data-testid=toggle-unchanged]")!.click();
    await vi.waitFor(() => expect(el.querySelector("[data-testid=field-unchanged]")).not.toBeNull());
    expect(el.querySelector("[data-testid=field-unchanged]")?.textContent).toContain(`invoice${ESC}fdp.exe`);
    expect(shownText(el)).not.toMatch(BIDI);
  });

  it("labels its times with the time zone", async () => {
    const el = recordScreen(history);
    await vi.waitFor(() => expect(el.querySelector("[data-testid=version-panel][data-version='2']")).not.toBeNull());
    // The version header is a single time: it carries its own zone.
    expect(el.querySelector("[data-testid=version-time]")?.textContent?.trim()).toMatch(new RegExp(` ${zoneLabel(new Date("2026-12-07T11:00:00Z")).replace("+", "\\+")}$`));
    // The timeline names the zone once, in its header, as the Changes list does.
    expect(el.querySelector("[data-testid=timeline-zone]")?.textContent).toContain(zoneLabel());

    for (const n of ["1", "2"]) el.querySelector<HTMLInputElement>(`[data-testid=version-item][data-version='${n}'] [data-testid=compare-pick]`)!.click();
    await vi.waitFor(() => expect(el.querySelector("[data-testid=compare-time]")).not.toBeNull());
    expect(el.querySelector("[data-testid=compare-time]")?.textContent?.match(/UTC/g)?.length).toBe(2);
  });
});

describe("times under a zone header", () => {
  it("repeat the zone only for a time on the other side of a summer-time change", () => {
    // Node reads TZ again when it is assigned (the project has no @types/node, hence the cast).
    const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
    const tz = env.TZ;
    env.TZ = "Europe/Berlin";
    try {
      expect(zoneLabel(new Date("2026-12-07T11:00:00Z"))).toBe("UTC+01:00");
      expect(formatTimeUnder("2026-12-07T11:00:00Z", "UTC+01:00")).toBe("2026-12-07 12:00:00");
      expect(formatTimeUnder("2026-07-01T11:00:00Z", "UTC+01:00")).toBe("2026-07-01 13:00:00 UTC+02:00");
      expect(formatTimeUnder(null, "UTC+01:00")).toBe("—");
    } finally {
      if (tz === undefined) delete env.TZ;
      else env.TZ = tz;
    }
  });
});
