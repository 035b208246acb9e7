// Rows of a filtered event list, fetched block by block as the list scrolls.
//
// The backend numbers a filter's matches 0..total-1, oldest first; events only ever get
// appended, so an index keeps naming the same event while new ones arrive. Blocks of
// BLOCK indexes are cached by index: a block next to a loaded one is read by keyset
// (`after_id` / `before_id`), any other (a dragged scrollbar, a jump) by position
// (`events_at`). A newest-first list shows row r = index total-1-r, so following new events
// only moves the mapping; cached blocks stay valid.
import { batch, createSignal } from "solid-js";
import type { EventCount, EventFilter, EventPage, EventsAtRequest, EventSummary, ListEventsRequest } from "../../api";
import { ApiError } from "../../transport/errors";

export interface PageFetcher {
  count(filter: EventFilter): Promise<EventCount>;
  list(req: ListEventsRequest): Promise<EventPage>;
  at(req: EventsAtRequest): Promise<EventPage>;
}

export const BLOCK = 200;
/** Blocks kept around the viewport. */
const KEEP_BLOCKS = 16;
const MAX_INFLIGHT = 3;

export class EventPages {
  private blocks = new Map<number, EventSummary[]>();
  private requested = new Set<number>();
  private inflight = 0;
  private queue: number[] = [];
  private generation = 0;
  private lastRange: [number, number] = [0, 30];
  /** Rows shown (a snapshot of the total; grows with `extend`). */
  readonly count: () => number | null;
  private setCount: (n: number | null) => void;
  /** While counting a large filter: matches found so far. */
  readonly counted: () => number | null;
  private setCounted: (n: number | null) => void;
  readonly version: () => number;
  private setVersion: (f: (n: number) => number) => void;
  readonly error: () => ApiError | null;
  private setError: (e: ApiError | null) => void;
  readonly loading: () => number;
  private setLoading: (f: (n: number) => number) => void;

  constructor(
    private fetcher: PageFetcher,
    private filter: EventFilter,
    private newestFirst: boolean,
    readonly blockSize = BLOCK,
  ) {
    [this.count, this.setCount] = createSignal<number | null>(null);
    [this.counted, this.setCounted] = createSignal<number | null>(null);
    [this.version, this.setVersion] = createSignal(0);
    [this.error, this.setError] = createSignal<ApiError | null>(null);
    [this.loading, this.setLoading] = createSignal(0);
  }

  isNewestFirst(): boolean {
    return this.newestFirst;
  }

  /** The backend index of row `r`. */
  indexOf(row: number): number {
    const n = this.count() ?? 0;
    return this.newestFirst ? n - 1 - row : row;
  }

  /** The row showing backend index `i`. */
  rowOf(index: number): number {
    const n = this.count() ?? 0;
    return this.newestFirst ? n - 1 - index : index;
  }

  private async countExact(gen: number): Promise<number | null> {
    for (;;) {
      const r = await this.fetcher.count(this.filter);
      if (gen !== this.generation) return null;
      if (r.exact) return r.count;
      this.setCounted(r.count);
    }
  }

  /** Starts over (a new filter or order): counts, drops every block. */
  async reset(filter: EventFilter = this.filter, newestFirst = this.newestFirst): Promise<void> {
    const gen = ++this.generation;
    this.filter = filter;
    this.newestFirst = newestFirst;
    this.blocks.clear();
    this.requested.clear();
    this.queue = [];
    batch(() => {
      this.setError(null);
      this.setCount(null);
      this.setCounted(null);
      this.setVersion((v) => v + 1);
    });
    try {
      const n = await this.countExact(gen);
      if (n === null) return;
      batch(() => {
        this.setCount(n);
        this.setCounted(null);
      });
      this.ensure(this.lastRange[0], this.lastRange[1]);
    } catch (e) {
      if (gen !== this.generation) return;
      this.setError(ApiError.from(e));
    }
  }

  /**
   * Takes in events that arrived since the count (live tail). Returns how many rows were
   * added. Cached blocks stay; only the last, partial one is read again.
   */
  async extend(): Promise<number> {
    const gen = this.generation;
    const before = this.count();
    if (before === null) return 0;
    try {
      const n = await this.countExact(gen);
      if (n === null || gen !== this.generation) return 0;
      if (n === before) return 0;
      const last = Math.floor((before - 1) / this.blockSize);
      if (before > 0 && (this.blocks.get(last)?.length ?? 0) < this.blockSize) this.blocks.delete(last);
      batch(() => {
        this.setCount(n);
        this.setVersion((v) => v + 1);
      });
      this.ensure(this.lastRange[0], this.lastRange[1]);
      return n - before;
    } catch (e) {
      if (gen === this.generation) this.setError(ApiError.from(e));
      return 0;
    }
  }

  /** The event at row `r`, or undefined while its block loads. Reactive. */
  row(r: number): EventSummary | undefined {
    this.version();
    const n = this.count();
    if (n === null || r < 0 || r >= n) return undefined;
    const i = this.indexOf(r);
    const b = Math.floor(i / this.blockSize);
    return this.blocks.get(b)?.[i - b * this.blockSize];
  }

  /** Makes sure rows first..last (and a block either side) are loaded or loading. */
  ensure(first: number, last: number): void {
    this.lastRange = [first, last];
    const n = this.count();
    if (n === null || n === 0) return;
    const lastRow = Math.min(last, n - 1);
    const firstRow = Math.max(0, Math.min(first, lastRow));
    const [i0, i1] = [this.indexOf(firstRow), this.indexOf(lastRow)].sort((a, b) => a - b) as [number, number];
    const b0 = Math.floor(i0 / this.blockSize);
    const b1 = Math.floor(i1 / this.blockSize);
    const maxBlock = Math.floor((n - 1) / this.blockSize);
    const wanted: number[] = [];
    // Visible blocks first, in reading order, then one either side.
    const visible: number[] = [];
    for (let b = b0; b <= b1; b++) visible.push(b);
    if (this.newestFirst) visible.reverse();
    wanted.push(...visible);
    if (b1 + 1 <= maxBlock) wanted.push(b1 + 1);
    if (b0 - 1 >= 0) wanted.push(b0 - 1);
    this.queue = wanted.filter((b) => !this.blocks.has(b) && !this.requested.has(b));
    this.pump();
    this.evict((b0 + b1) / 2);
  }


  private evict(center: number) {
    if (this.blocks.size <= KEEP_BLOCKS) return;
    const far = [...this.blocks.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    while (this.blocks.size > KEEP_BLOCKS && far.length) this.blocks.delete(far.shift()!);
  }

  /**
   * Starts queued loads. A block whose neighbour is being read waits for it, so that it can
   * be read by keyset from that neighbour instead of by position.
   */
  private pump() {
    let i = 0;
    while (this.inflight < MAX_INFLIGHT && i < this.queue.length) {
      const b = this.queue[i]!;
      if (this.blocks.has(b) || this.requested.has(b)) {
        this.queue.splice(i, 1);
        continue;
      }
      if (this.requested.has(b - 1) || this.requested.has(b + 1)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      void this.load(b);
    }
  }

  /** Reads block `b` (indexes b*BLOCK ..), by keyset from a loaded neighbour when there is one. */
  private async fetchBlock(b: number, n: number): Promise<EventSummary[]> {
    const start = b * this.blockSize;
    const len = Math.min(this.blockSize, n - start);
    const prev = this.blocks.get(b - 1);
    const next = this.blocks.get(b + 1);
    let page: EventPage | null = null;
    if (prev && prev.length === this.blockSize) {
      page = await this.fetcher.list({ filter: this.filter, after_id: prev[prev.length - 1]!.id, limit: len });
    } else if (next && next.length > 0) {
      page = await this.fetcher.list({ filter: this.filter, before_id: next[0]!.id, limit: len });
    }
    if (!page || page.first_index !== start || page.events.length < len) {
      page = await this.fetcher.at({ filter: this.filter, index: start, limit: len });
    }
    return page.events.slice(0, len);
  }

  private async load(b: number): Promise<void> {
    const gen = this.generation;
    const n = this.count() ?? 0;
    this.requested.add(b);
    this.inflight++;
    this.setLoading((x) => x + 1);
    try {
      const events = await this.fetchBlock(b, n);
      if (gen !== this.generation) return;
      this.blocks.set(b, events);
      this.setVersion((v) => v + 1);
      const [f, l] = this.lastRange;
      this.evict(Math.floor((this.indexOf(f) + this.indexOf(l)) / 2 / this.blockSize));
    } catch (e) {
      if (gen === this.generation) this.setError(ApiError.from(e));
    } finally {
      if (gen === this.generation) this.requested.delete(b);
      this.inflight--;
      this.setLoading((x) => x - 1);
      if (gen === this.generation) this.pump();
    }
  }

  /** Blocks held (tests). */
  cachedBlocks(): number[] {
    return [...this.blocks.keys()].sort((a, b) => a - b);
  }
}
