import { afterEach, describe, expect, it } from "vitest";
import { render } from "solid-js/web";
import { DiffView, Value } from "../src/components/DiffView";
import type { ValueDiff } from "../src/api";

let dispose: (() => void) | null = null;
afterEach(() => {
  dispose?.();
  dispose = null;
  document.body.innerHTML = "";
});

function mount(diff: ValueDiff, layout: "inline" | "split" = "inline", value?: string | null) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  dispose = render(() => <DiffView diff={diff} layout={layout} value={value} />, el);
  return el;
}

const XSS = '<img src=x onerror="window.__pwned=1">';

describe("DiffView", () => {
  it("unchanged", () => {
    const el = mount({ kind: "unchanged" }, "inline", "P");
    expect(el.querySelector("[data-kind=unchanged]")).not.toBeNull();
    expect(el.textContent).toContain("unchanged");
    expect(el.textContent).toContain("P");
  });

  it("set and cleared, with NULL shown as NULL", () => {
    let el = mount({ kind: "set", new: "Rotterdam" });
    expect(el.querySelector("ins")?.textContent).toBe("Rotterdam");
    expect(el.textContent).toContain("+ set");
    dispose?.();
    el = mount({ kind: "cleared", old: "Rotterdam" });
    expect(el.querySelector("del")?.textContent).toBe("Rotterdam");
    expect(el.querySelector(".val-null")?.textContent).toBe("NULL");
    expect(el.textContent).toContain("− cleared");
  });

  it("replaced, inline and side by side", () => {
    let el = mount({ kind: "replaced", old: "P", new: "X" });
    expect(el.querySelector("del")?.textContent).toBe("P");
    expect(el.querySelector("ins")?.textContent).toBe("X");
    expect(el.textContent).toContain("→");
    dispose?.();
    el = mount({ kind: "replaced", old: "P", new: "X" }, "split");
    expect(el.querySelector(".d-old")?.textContent).toBe("P");
    expect(el.querySelector(".d-new")?.textContent).toBe("X");
  });

  it("shows the empty string distinctly from NULL", () => {
    const el = mount({ kind: "replaced", old: "", new: "x" });
    expect(el.querySelector(".val-empty")?.textContent).toBe("(empty)");
  });

  it("text spans at word level", () => {
    const diff: ValueDiff = {
      kind: "text",
      spans: [
        { op: "equal", text: "the " },
        { op: "delete", text: "quick" },
        { op: "insert", text: "slow" },
        { op: "equal", text: " fox" },
      ],
    };
    let el = mount(diff);
    expect(el.textContent).toBe("the quickslow fox");
    expect([...el.querySelectorAll("del")].map((d) => d.textContent)).toEqual(["quick"]);
    expect([...el.querySelectorAll("ins")].map((d) => d.textContent)).toEqual(["slow"]);
    dispose?.();
    el = mount(diff, "split");
    expect(el.querySelector(".d-old")?.textContent).toBe("the quick fox");
    expect(el.querySelector(".d-new")?.textContent).toBe("the slow fox");
  });

  it("lines with symbols, inline changes and stripped terminators", () => {
    const diff: ValueDiff = {
      kind: "lines",
      lines: [
        { op: "equal", text: "a\n" },
        { op: "delete", text: "b\n" },
        { op: "insert", text: "c\n" },
        { op: "changed", spans: [{ op: "equal", text: "d " }, { op: "delete", text: "e" }, { op: "insert", text: "f" }, { op: "equal", text: "\n" }] },
      ],
    };
    let el = mount(diff);
    const rows = [...el.querySelectorAll(".d-line")];
    expect(rows.map((r) => r.querySelector(".d-mark")?.textContent)).toEqual([" ", "−", "+", "~"]);
    expect(rows.map((r) => r.querySelector(".d-line-text")?.textContent)).toEqual(["a", "b", "c", "d ef"]);
    dispose?.();
    el = mount(diff, "split");
    expect([...el.querySelectorAll(".d-old .d-line-text")].map((r) => r.textContent)).toEqual(["a", "b", "d e"]);
    expect([...el.querySelectorAll(".d-new .d-line-text")].map((r) => r.textContent)).toEqual(["a", "c", "d f"]);
  });

  it("JSON changes by path", () => {
    const el = mount({
      kind: "json",
      changes: [
        { path: "/tags/1", change: { kind: "added", new: "express" } },
        { path: "/dims/w", change: { kind: "changed", old: 10, new: 12 } },
        { path: "/old", change: { kind: "removed", old: { a: [1] } } },
        { path: "/items/2", change: { kind: "moved", from: 0, to: 2 } },
        { path: "", change: { kind: "changed", old: [], new: {} } },
      ],
    });
    const rows = [...el.querySelectorAll("[data-testid=json-change]")];
    expect(rows.map((r) => r.querySelector(".d-mark")?.textContent)).toEqual(["+", "~", "−", "↕", "~"]);
    expect(rows.map((r) => r.querySelector(".d-path")?.textContent)).toEqual(["/tags/1", "/dims/w", "/old", "/items/2", "(root)"]);
    expect(rows[0]!.querySelector("ins")?.textContent).toBe('"express"');
    expect(rows[1]!.textContent).toContain("10 → 12");
    expect(rows[2]!.querySelector("del")?.textContent).toBe('{"a":[1]}');
    expect(rows[3]!.textContent).toContain("moved from index 0 to 2");
  });

  it("JSON side by side: old values left, new values right", () => {
    const el = mount(
      {
        kind: "json",
        changes: [
          { path: "/a", change: { kind: "added", new: 1 } },
          { path: "/b", change: { kind: "removed", old: "x" } },
          { path: "/c", change: { kind: "changed", old: true, new: false } },
        ],
      },
      "split",
    );
    const old = [...el.querySelectorAll(".d-old [data-testid=json-change]")].map((r) => r.querySelector(".d-jval")!.textContent);
    const nw = [...el.querySelectorAll(".d-new [data-testid=json-change]")].map((r) => r.querySelector(".d-jval")!.textContent);
    expect(old).toEqual(["(absent)", '"x"', "true"]);
    expect(nw).toEqual(["1", "(absent)", "false"]);
  });
});

describe("audited values are text, never markup", () => {
  const kinds: ValueDiff[] = [
    { kind: "set", new: XSS },
    { kind: "cleared", old: XSS },
    { kind: "replaced", old: XSS, new: XSS + "!" },
    { kind: "text", spans: [{ op: "equal", text: XSS }, { op: "insert", text: "<script>window.__pwned=2</script>" }] },
    { kind: "lines", lines: [{ op: "insert", text: XSS + "\n" }, { op: "changed", spans: [{ op: "delete", text: XSS }] }] },
    { kind: "json", changes: [{ path: "/<b>", change: { kind: "added", new: XSS } }] },
  ];
  for (const diff of kinds) {
    for (const layout of ["inline", "split"] as const) {
      it(`${diff.kind} (${layout}) renders <img onerror> as text`, () => {
        const el = mount(diff, layout);
        expect(el.querySelector("img")).toBeNull();
        expect(el.querySelector("script")).toBeNull();
        expect(el.querySelector("b")).toBeNull();
        expect(el.textContent).toContain("<img src=x onerror=");
        expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
      });
    }
  }

  it("Value renders markup as text", () => {
    const el = document.createElement("div");
    dispose = render(() => <Value value={XSS} />, el);
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toBe(XSS);
  });
});
