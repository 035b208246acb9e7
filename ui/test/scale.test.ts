import { describe, expect, it } from "vitest";
import { geometry, MAX_SCROLL_PX, rowTop, scrollTargetFor, toReal, toVirtual, visibleRows } from "../src/components/virtual/scale";

const BROWSER_CAP = 33_554_428;

describe("scaled scrolling", () => {
  it("keeps small lists unscaled", () => {
    const g = geometry(1000, 28, 600);
    expect(g.ratio).toBe(1);
    expect(g.virtualHeight).toBe(28000);
    expect(toReal(1234, g)).toBe(1234);
    expect(rowTop(50 * 28, 1234, g)).toBe(50 * 28);
  });

  for (const rowHeight of [28, 32, 48]) {
    it(`reaches the last of 1,000,000 rows of ${rowHeight}px`, () => {
      const count = 1_000_000;
      const viewport = 900;
      const g = geometry(count, rowHeight, viewport);
      expect(g.virtualHeight).toBeLessThanOrEqual(MAX_SCROLL_PX);
      expect(g.virtualHeight).toBeLessThan(BROWSER_CAP);
      const maxScroll = g.virtualHeight - viewport;
      const { first, last } = visibleRows(maxScroll, count, rowHeight, g);
      expect(last).toBe(count - 1);
      expect(first).toBeGreaterThan(count - 1 - Math.ceil(viewport / rowHeight) - 1);
      // The last row sits exactly at the bottom of the viewport, fully visible.
      const top = rowTop((count - 1) * rowHeight, maxScroll, g);
      expect(top + rowHeight).toBeCloseTo(maxScroll + viewport, 3);
      expect(top).toBeGreaterThanOrEqual(maxScroll);
      // And the first row at the top.
      expect(visibleRows(0, count, rowHeight, g).first).toBe(0);
      expect(rowTop(0, 0, g)).toBe(0);
    });
  }

  it("maps a scroll position to a row and back", () => {
    const g = geometry(1_000_000, 28, 800);
    for (const row of [0, 1, 123_456, 500_000, 999_000]) {
      const st = toVirtual(row * 28, g);
      const { first } = visibleRows(st, 1_000_000, 28, g);
      expect(Math.abs(first - row)).toBeLessThanOrEqual(1);
      // Rows are drawn where they belong relative to the viewport top.
      expect(rowTop(row * 28, st, g) - st).toBeCloseTo(row * 28 - toReal(st, g), 6);
    }
  });

  it("scales ten million rows too", () => {
    const g = geometry(10_000_000, 28, 800);
    expect(g.virtualHeight).toBe(MAX_SCROLL_PX);
    expect(visibleRows(g.virtualHeight - 800, 10_000_000, 28, g).last).toBe(9_999_999);
  });

  it("handles empty lists", () => {
    const g = geometry(0, 28, 800);
    expect(g.virtualHeight).toBe(0);
    expect(visibleRows(0, 0, 28, g)).toEqual({ first: 0, last: -1 });
  });
});

describe("scrolling to a row", () => {
  const count = 1_000_000;
  const h = 28;
  const g = geometry(count, h, 900);
  const visibleAt = (st: number, i: number) => {
    const top = rowTop(i * h, st, g) - st;
    return top >= -2.5 && top + h <= g.viewport + 2.5;
  };

  it("brings the last of a million rows fully into view (End)", () => {
    const st = scrollTargetFor(count - 1, "auto", h, 0, g)!;
    expect(st).toBe(g.virtualHeight - g.viewport);
    expect(visibleRows(st, count, h, g).last).toBe(count - 1);
    expect(rowTop((count - 1) * h, st, g) + h).toBeCloseTo(st + g.viewport, 3);
  });

  it("aligns rows anywhere in the list, within the scaling's rounding", () => {
    for (const i of [1, 12_345, 500_000, 999_000, 999_998]) {
      for (const align of ["start", "center", "end", "auto"] as const) {
        const st = Math.round(scrollTargetFor(i, align, h, 0, g) ?? 0);
        expect(visibleAt(st, i)).toBe(true);
      }
    }
  });

  it("does not scroll for a row already in view", () => {
    const st = toVirtual(500_000 * h, g);
    expect(scrollTargetFor(500_005, "auto", h, st, g)).toBeNull();
    // One step past the bottom scrolls by about one row.
    const next = scrollTargetFor(500_000 + Math.floor(900 / h), "auto", h, st, g)!;
    expect(toReal(next, g) - toReal(st, g)).toBeLessThanOrEqual(h);
  });
});
