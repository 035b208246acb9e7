import { createEffect, createMemo, createSignal, For, onCleanup, onMount, type JSX } from "solid-js";
import { geometry, rowTop, scrollTargetFor, visibleRows, type Geometry } from "./virtual/scale";

export interface VirtualListApi {
  /** Scrolls so that row `index` is visible (`auto`: only if it is not). */
  scrollToIndex(index: number, align?: "start" | "center" | "end" | "auto"): void;
  /** Scrolls to the very end (the last row fully visible). */
  scrollToEnd(): void;
  element(): HTMLDivElement | undefined;
}

export interface VirtualListProps {
  count: number;
  /** Fixed row height in px; keep it ≤ 32 (see virtual/scale.ts for taller totals). */
  rowHeight: number;
  renderRow: (index: number) => JSX.Element;
  overscan?: number;
  /** Called with the first and last rendered rows whenever they change (to load pages). */
  onRange?: (first: number, last: number) => void;
  ref?: (api: VirtualListApi) => void;
  class?: string;
  "data-testid"?: string;
  "aria-label"?: string;
  /** Accessibility: the list is a listbox whose active row is this id. */
  activeId?: string;
}

/**
 * A fixed-row-height virtual list with scaled scrolling, so a million rows (or more) stay
 * reachable under the browsers' element-height cap. Rows are fixed-height, so the rendered
 * range is arithmetic on the scroll position (virtual/scale.ts): nothing is kept per row, and
 * a new count (a million rows, or new events arriving) costs nothing. (A general virtualizer
 * keeps one measurement object per row: about 30 ms of main-thread work per million rows
 * whenever the count changes, on the way to the Changes screen's first rows.)
 */
export function VirtualList(props: VirtualListProps) {
  let el: HTMLDivElement | undefined;
  const [viewport, setViewport] = createSignal(600);
  const [scrollTop, setScrollTop] = createSignal(0);
  const geo = createMemo((): Geometry => geometry(props.count, props.rowHeight, viewport()));

  /** The rows rendered: those visible and `overscan` more either side (empty: last < first). */
  const range = createMemo(
    () => {
      const n = props.count;
      if (n <= 0) return { first: 0, last: -1 };
      const over = props.overscan ?? 8;
      const v = visibleRows(scrollTop(), n, props.rowHeight, geo());
      return { first: Math.max(0, v.first - over), last: Math.min(n - 1, v.last + over) };
    },
    undefined,
    { equals: (a, b) => a.first === b.first && a.last === b.last },
  );
  const indexes = createMemo(() => {
    const { first, last } = range();
    const out: number[] = [];
    for (let i = first; i <= last; i++) out.push(i);
    return out;
  });

  onMount(() => {
    if (!el) return;
    const measure = () => setViewport(el?.clientHeight || 600);
    measure();
    const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(measure) : null;
    ro?.observe(el);
    const onScroll = () => setScrollTop(el?.scrollTop ?? 0);
    el.addEventListener("scroll", onScroll, { passive: true });
    onScroll();
    onCleanup(() => {
      ro?.disconnect();
      el?.removeEventListener("scroll", onScroll);
    });
  });

  createEffect(() => {
    const { first, last } = range();
    if (last < first || !props.onRange) return;
    props.onRange(first, last);
  });

  /** Where the first rendered row goes inside the spacer. */
  const windowTop = () => {
    const { first, last } = range();
    return last >= first ? rowTop(first * props.rowHeight, scrollTop(), geo()) : 0;
  };

  const api: VirtualListApi = {
    scrollToIndex(index, align = "auto") {
      if (props.count <= 0 || !el) return;
      const i = Math.max(0, Math.min(props.count - 1, index));
      // Computed here rather than by the virtualizer: it would clamp the real offset to the
      // (scaled) element's scroll range.
      const target = scrollTargetFor(i, align, props.rowHeight, el.scrollTop, geo());
      if (target !== null) el.scrollTop = target;
    },
    scrollToEnd() {
      if (!el) return;
      el.scrollTop = Math.max(0, geo().virtualHeight - el.clientHeight);
    },
    element: () => el,
  };
  props.ref?.(api);

  return (
    <div
      ref={el}
      class={"vlist " + (props.class ?? "")}
      data-testid={props["data-testid"]}
      role="listbox"
      aria-label={props["aria-label"]}
      aria-activedescendant={props.activeId}
      tabIndex={0}
    >
      <div class="vlist-spacer" style={{ height: geo().virtualHeight + "px" }}>
        {/* The visible rows flow in one window moved by a single transform, so scrolling a
            scaled list rewrites one style per frame, not one per row. */}
        <div class="vlist-window" style={{ transform: `translateY(${windowTop()}px)` }}>
          <For each={indexes()}>
            {(index) => (
              <div class="vlist-row" data-index={index} style={{ height: props.rowHeight + "px" }}>
                {props.renderRow(index)}
              </div>
            )}
          </For>
        </div>
      </div>
    </div>
  );
}
