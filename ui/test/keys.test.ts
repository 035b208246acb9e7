import { describe, expect, it } from "vitest";
import { isEditable, listKeyAction } from "../src/lib/keys";

const at = (key: string, selected: number, count = 1_000_000, extra: object = {}) => listKeyAction({ key, ...extra }, { count, selected, pageRows: 30 });

describe("list keyboard navigation", () => {
  it("j/k and arrows move within bounds", () => {
    expect(at("j", -1)).toEqual({ type: "move", index: 0 });
    expect(at("j", 0)).toEqual({ type: "move", index: 1 });
    expect(at("ArrowDown", 5)).toEqual({ type: "move", index: 6 });
    expect(at("k", 5)).toEqual({ type: "move", index: 4 });
    expect(at("k", 0)).toEqual({ type: "move", index: 0 });
    expect(at("ArrowUp", -1)).toEqual({ type: "move", index: 0 });
    expect(at("j", 999_999)).toEqual({ type: "move", index: 999_999 });
  });

  it("jumps by page and to either end, the last of a million rows included", () => {
    expect(at("PageDown", 10)).toEqual({ type: "move", index: 40 });
    expect(at("PageUp", 10)).toEqual({ type: "move", index: 0 });
    expect(at("End", 3)).toEqual({ type: "move", index: 999_999 });
    expect(at("G", 3)).toEqual({ type: "move", index: 999_999 });
    expect(at("Home", 500)).toEqual({ type: "move", index: 0 });
  });

  it("Enter on a focused button, link or checkbox is theirs, not the list's", () => {
    const el = (tag: string, attrs: Record<string, string> = {}) => {
      const x = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs)) x.setAttribute(k, v);
      return x;
    };
    for (const target of [el("button"), el("a", { href: "#/txn/demo/1" }), el("input", { type: "checkbox" }), el("summary"), el("div", { role: "tab" })]) {
      expect(at("Enter", 7, 100, { target })).toBeNull();
      // Moving still works from there.
      expect(at("j", 7, 100, { target })).toEqual({ type: "move", index: 8 });
    }
    expect(at("Enter", 7, 100, { target: el("div") })).toEqual({ type: "open", index: 7 });
    expect(at("Enter", 7, 100, { target: el("a") })).toEqual({ type: "open", index: 7 });
  });

  it("Enter opens the selected row only", () => {
    expect(at("Enter", 7)).toEqual({ type: "open", index: 7 });
    expect(at("Enter", -1)).toBeNull();
  });

  it("/ focuses the search, Esc escapes", () => {
    expect(at("/", 3)).toEqual({ type: "focusSearch" });
    expect(at("Escape", 3)).toEqual({ type: "escape" });
  });

  it("leaves typing alone, except Esc", () => {
    const input = document.createElement("input");
    expect(isEditable(input)).toBe(true);
    expect(at("j", 3, 10, { target: input })).toBeNull();
    expect(at("/", 3, 10, { target: input })).toBeNull();
    expect(at("Enter", 3, 10, { target: input })).toBeNull();
    expect(at("Escape", 3, 10, { target: input })).toEqual({ type: "escape" });
    const box = document.createElement("input");
    box.type = "checkbox";
    expect(isEditable(box)).toBe(false);
    expect(isEditable(document.createElement("textarea"))).toBe(true);
    expect(isEditable(document.createElement("div"))).toBe(false);
  });

  it("ignores modified keys and empty lists", () => {
    expect(at("j", 3, 10, { ctrlKey: true })).toBeNull();
    expect(at("k", 3, 10, { metaKey: true })).toBeNull();
    expect(at("j", -1, 0)).toBeNull();
    expect(at("End", -1, 0)).toBeNull();
  });
});
