// Rows of the Changes list, fetched page by page as the list scrolls: keyset pagination
// (`after_id` = the last id of the page before) while scrolling, an offset only for a jump
// into a region with no loaded neighbour. Only the pages near the viewport are kept.
import { batch, createSignal } from "solid-js";
import type { EventFilter, EventJson, EventPage, ListEventsArgs } from "../../api";
import { ApiError } from "../../transport/errors";

export interface PageFetcher {
  count(filter: EventFilter, maxId: number | null): Promise<{ count: number; max_id: number | null }>;
  page(args: ListEventsArgs): Promise<EventPage>;
}

export const PAGE_SIZE = 200;
/** Pages kept in memory around the viewport (a few thousand rows). */
const KEEP_PAGES = 12;
const MAX_INFLIGHT = 3;

export class EventPages {
  private pages = new Map<number, EventJson[]>();
  private requested = new Set<number>();
  private inflight = 0;
  private queue: number[] = [];
  private generation = 0;
  private maxId: number | null = null;
  private lastRange: [number, number] = [0, 0];
  readonly count: () => number | null;
  private setCount: (n: number | null) => void;
  readonly version: () => number;
  private setVersion: (f: (n: number) => number) => void;
  readonly error: () => ApiError | null;
  private setError: (e: ApiError | null) => void;
  readonly loadingPages: () => number;
  private setLoadingPages: (f: (n: number) => number) => void;

  constructor(
    private fetcher: PageFetcher,
    private filter: EventFilter,
    private newestFirst: boolean,
    readonly pageSize = PAGE_SIZE,
  ) {
    [this.count, this.setCount] = createSignal<number | null>(null);
    [this.version, this.setVersion] = createSignal(0);
    [this.error, this.setError] = createSignal<ApiError | null>(null);
    [this.loadingPages, this.setLoadingPages] = createSignal(0);
  }

  /** The snapshot bound (newest id included). */
  snapshotId(): number | null {
    return this.maxId;
  }

  /** Counts the rows again (newest events included) and drops every page. */
  async reset(filter: EventFilter = this.filter, newestFirst = this.newestFirst): Promise<void> {
    const gen = ++this.generation;
    this.filter = filter;
    this.newestFirst = newestFirst;
    this.pages.clear();
    this.requested.clear();
    this.queue = [];
    batch(() => {
      this.setError(null);
      this.setVersion((v) => v + 1);
    });
    try {
      const r = await this.fetcher.count(filter, null);
      if (gen !== this.generation) return;
      this.maxId = r.max_id;
      this.setCount(r.count);
      this.ensure(this.lastRange[0], this.lastRange[1]);
    } catch (e) {
      if (gen !== this.generation) return;
      this.setError(ApiError.from(e));
      this.setCount(null);
    }
  }

  /** The row at `index`, or undefined while its page loads. Reactive. */
  row(index: number): EventJson | undefined {
    this.version();
    const p = Math.floor(index / this.pageSize);
    return this.pages.get(p)?.[index - p * this.pageSize];
  }

  /** Whether the row's page is loaded (not reactive). */
  has(index: number): boolean {
    return this.pages.has(Math.floor(index / this.pageSize));
  }

  /** Makes sure rows first..last (plus a page either side) are loaded or loading. */
  ensure(first: number, last: number): void {
    this.lastRange = [first, last];
    const n = this.count();
    if (n === null || n === 0) return;
    const p0 = Math.max(0, Math.floor(first / this.pageSize) - 1);
    const p1 = Math.min(Math.floor((n - 1) / this.pageSize), Math.floor(last / this.pageSize) + 1);
    // Visible pages first, then the neighbours.
    const wanted: number[] = [];
    for (let p = Math.floor(first / this.pageSize); p <= Math.min(p1, Math.floor(last / this.pageSize)); p++) wanted.push(p);
    if (p0 < Math.floor(first / this.pageSize)) wanted.push(p0);
    if (p1 > Math.floor(last / this.pageSize)) wanted.push(p1);
    this.queue = wanted.filter((p) => !this.pages.has(p) && !this.requested.has(p));
    this.pump();
    this.evict(Math.floor(first / this.pageSize));
  }

  private evict(center: number) {
    if (this.pages.size <= KEEP_PAGES) return;
    const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    while (this.pages.size > KEEP_PAGES && far.length) this.pages.delete(far.shift()!);
  }

  private pump() {
    while (this.inflight < MAX_INFLIGHT && this.queue.length) {
      const p = this.queue.shift()!;
      if (this.pages.has(p) || this.requested.has(p)) continue;
      void this.load(p);
    }
  }

  private async load(p: number): Promise<void> {
    const gen = this.generation;
    this.requested.add(p);
    this.inflight++;
    this.setLoadingPages((n) => n + 1);
    const prev = this.pages.get(p - 1);
    const args: ListEventsArgs = {
      filter: this.filter,
      newest_first: this.newestFirst,
      max_id: this.maxId,
      limit: this.pageSize,
    };
    const last = prev && prev.length === this.pageSize ? prev[prev.length - 1] : undefined;
    if (last) args.after_id = last.id;
    else args.offset = p * this.pageSize;
    try {
      const page = await this.fetcher.page(args);
      if (gen !== this.generation) return;
      this.pages.set(p, page.events);
      this.setVersion((v) => v + 1);
    } catch (e) {
      if (gen !== this.generation) return;
      this.setError(ApiError.from(e));
    } finally {
      if (gen === this.generation) this.requested.delete(p);
      this.inflight--;
      this.setLoadingPages((n) => n - 1);
      if (gen === this.generation) {
        this.pump();
      }
    }
  }
}
