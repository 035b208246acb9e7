import { createVirtualizer, elementScroll, observeElementOffset } from "@tanstack/solid-virtual";
import { createEffect, createSignal, For, onCleanup, onMount, type JSX } from "solid-js";
import { geometry, rowTop, scrollTargetFor, toReal, toVirtual, type Geometry } from "./virtual/scale";

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
 * A fixed-row-height virtual list on @tanstack/solid-virtual, with scaled scrolling so a
 * million rows (or more) stay reachable under the browsers' element-height cap.
 */
export function VirtualList(props: VirtualListProps) {
  let el: HTMLDivElement | undefined;
  const [viewport, setViewport] = createSignal(600);
  const [scrollTop, setScrollTop] = createSignal(0);
  const geo = (): Geometry => geometry(props.count, props.rowHeight, viewport());

  const virtualizer = createVirtualizer({
    get count() {
      return props.count;
    },
    getScrollElement: () => el ?? null,
    estimateSize: () => props.rowHeight,
    get overscan() {
      return props.overscan ?? 8;
    },
    initialRect: { width: 800, height: 600 },
    observeElementOffset: (instance, cb) =>
      observeElementOffset(instance, (offset, isScrolling) => {
        setScrollTop(offset);
        cb(toReal(offset, geo()), isScrolling);
      }),
    scrollToFn: (offset, options, instance) => {
      const real = offset + (options.adjustments ?? 0);
      elementScroll(toVirtual(real, geo()), { behavior: options.behavior }, instance);
    },
  });

  onMount(() => {
    if (!el) return;
    const measure = () => setViewport(el?.clientHeight || 600);
    measure();
    const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(measure) : null;
    ro?.observe(el);
    onCleanup(() => ro?.disconnect());
  });

  createEffect(() => {
    const items = virtualizer.getVirtualItems();
    if (!items.length || !props.onRange) return;
    props.onRange(items[0]!.index, items[items.length - 1]!.index);
  });

  /** Where the first rendered row goes inside the spacer. */
  const windowTop = () => {
    const items = virtualizer.getVirtualItems();
    return items.length ? rowTop(items[0]!.start, scrollTop(), geo()) : 0;
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
          <For each={virtualizer.getVirtualItems()}>
            {(item) => (
              <div class="vlist-row" data-index={item.index} style={{ height: props.rowHeight + "px" }}>
                {props.renderRow(item.index)}
              </div>
            )}
          </For>
        </div>
      </div>
    </div>
  );
}
