import { describe, expect, it } from "vitest";
import { createRoot } from "solid-js";
import { createRouter, formatRoute, parseHash, to, type Route } from "../src/router";

describe("hash router", () => {
  it("parses every screen", () => {
    expect(parseHash("")).toEqual({ name: "changes", query: {} });
    expect(parseHash("#/")).toEqual({ name: "changes", query: {} });
    expect(parseHash("#/changes?table=shp&op=update")).toEqual({ name: "changes", query: { table: "shp", op: "update" } });
    expect(parseHash("#/sources")).toEqual({ name: "sources", query: {} });
    expect(parseHash("#/record/demo/public.shp/5001")).toEqual({ name: "record", source: "demo", table: "public.shp", key: ["5001"], query: {} });
    expect(parseHash("#/record/demo/public.ln/5001/2?v=3")).toMatchObject({ key: ["5001", "2"], query: { v: "3" } });
    expect(parseHash("#/txn/demo/7431")).toEqual({ name: "txn", source: "demo", txid: "7431", query: {} });
    expect(parseHash("#/nope")).toMatchObject({ name: "notfound" });
    expect(parseHash("#/record/demo")).toMatchObject({ name: "notfound" });
  });

  it("round-trips keys holding slashes, spaces, ? and #", () => {
    const r: Route = { name: "record", source: "my src", table: "s.t", key: ["a/b", "c?d#e&f=g", "ü %"], query: { search: "x & y" } };
    const h = formatRoute(r);
    expect(h.startsWith("#/record/")).toBe(true);
    expect(parseHash(h)).toEqual(r);
    expect(parseHash(to.txn("demo", "74/31"))).toEqual({ name: "txn", source: "demo", txid: "74/31", query: {} });
    expect(parseHash(to.changes({ q: "a+b c" }))).toEqual({ name: "changes", query: { q: "a+b c" } });
  });

  it("follows navigation and back/forward", () => {
    const listeners: Record<string, () => void> = {};
    const loc = { hash: "#/changes", pathname: "/", search: "" };
    const stack = ["#/changes"];
    let i = 0;
    const win = {
      location: loc,
      addEventListener: (t: string, f: () => void) => void (listeners[t] = f),
      removeEventListener: () => {},
      history: {
        state: null,
        pushState: (_s: unknown, _t: string, url: string) => {
          stack.splice(i + 1);
          stack.push(url.slice(1));
          i++;
          loc.hash = url.slice(1);
        },
        replaceState: (_s: unknown, _t: string, url: string) => {
          stack[i] = url.slice(1);
          loc.hash = url.slice(1);
        },
        back: () => {
          i--;
          loc.hash = stack[i]!;
          listeners.popstate?.();
        },
      },
    };
    createRoot((dispose) => {
      const r = createRouter(win as never);
      expect(r.route().name).toBe("changes");
      r.navigate(to.record("demo", "public.shp", ["5001"]));
      expect(r.route()).toMatchObject({ name: "record", key: ["5001"] });
      r.navigate(to.txn("demo", "1"), { replace: true });
      expect(stack).toEqual(["#/changes", "#/txn/demo/1"]);
      r.back();
      expect(r.route().name).toBe("changes");
      r.dispose();
      dispose();
    });
  });
});
