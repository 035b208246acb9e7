// Scaled scrolling: browsers cap an element's height (Chromium and WebKit at 33,554,428 px,
// Firefox near 17,895,697 px), so a list taller than MAX_SCROLL_PX is drawn in a spacer of
// MAX_SCROLL_PX and the scroll position is mapped linearly onto the real offset. At the
// bottom of the scroll range the real offset is exactly the real maximum, so the last row
// is always reachable; below the cap the mapping is the identity.

/** Tallest spacer we ever ask the browser for (below every engine's cap). */
export const MAX_SCROLL_PX = 15_000_000;

export interface Geometry {
  /** count × rowHeight */
  realHeight: number;
  /** The spacer's height: realHeight, capped. */
  virtualHeight: number;
  /** Real pixels per scrolled pixel (1 when not capped). */
  ratio: number;
  viewport: number;
}

export function geometry(count: number, rowHeight: number, viewport: number, max = MAX_SCROLL_PX): Geometry {
  const realHeight = Math.max(0, count) * rowHeight;
  const virtualHeight = Math.min(realHeight, max);
  const realMax = Math.max(0, realHeight - viewport);
  const virtMax = Math.max(0, virtualHeight - viewport);
  const ratio = virtMax > 0 && realMax > virtMax ? realMax / virtMax : 1;
  return { realHeight, virtualHeight, ratio, viewport };
}

/** The real content offset shown at a scroll position. */
export function toReal(scrollTop: number, g: Geometry): number {
  const realMax = Math.max(0, g.realHeight - g.viewport);
  return Math.min(realMax, Math.max(0, scrollTop * g.ratio));
}

/** The scroll position that shows a real content offset. */
export function toVirtual(realOffset: number, g: Geometry): number {
  const virtMax = Math.max(0, g.virtualHeight - g.viewport);
  return Math.min(virtMax, Math.max(0, realOffset / g.ratio));
}

/** Where a row's top goes inside the spacer, given the scroll position. */
export function rowTop(realStart: number, scrollTop: number, g: Geometry): number {
  return scrollTop + realStart - toReal(scrollTop, g);
}

/** Rows (inclusive range) visible at a scroll position. */
export function visibleRows(scrollTop: number, count: number, rowHeight: number, g: Geometry): { first: number; last: number } {
  if (count <= 0) return { first: 0, last: -1 };
  const off = toReal(scrollTop, g);
  const first = Math.min(count - 1, Math.floor(off / rowHeight));
  const last = Math.min(count - 1, Math.ceil((off + g.viewport) / rowHeight) - 1);
  return { first, last: Math.max(first, last) };
}

/**
 * The scroll position that shows row `index` as `align` asks (`auto`: only scroll when the
 * row is not fully visible, by as little as possible); null when no scrolling is needed.
 */
export function scrollTargetFor(
  index: number,
  align: "start" | "center" | "end" | "auto",
  rowHeight: number,
  scrollTop: number,
  g: Geometry,
): number | null {
  const top = index * rowHeight;
  const off = toReal(scrollTop, g);
  let real: number;
  switch (align) {
    case "start":
      real = top;
      break;
    case "end":
      real = top + rowHeight - g.viewport;
      break;
    case "center":
      real = top + rowHeight / 2 - g.viewport / 2;
      break;
    case "auto":
      if (top < off) real = top;
      else if (top + rowHeight > off + g.viewport) real = top + rowHeight - g.viewport;
      else return null;
      break;
  }
  return toVirtual(real, g);
}
