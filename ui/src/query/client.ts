// A small server-state cache: one signal of {data, error, loading} per key, in-flight calls
// shared, entries refreshed when a backend event touches one of their tags. It holds no
// business logic: what a query returns is whatever the core answered.
import { createSignal, type Accessor, type Setter } from "solid-js";
import type { ApiEvent } from "../api";
import { ApiError } from "../transport/errors";

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
}

/** What invalidates what: tags an entry carries, matched against events. */
export type Tag = string;

interface Entry {
  key: string;
  tags: Tag[];
  fetcher: () => Promise<unknown>;
  state: Accessor<QueryState<unknown>>;
  set: Setter<QueryState<unknown>>;
  inflight: Promise<unknown> | null;
  generation: number;
  users: number;
  stale: boolean;
}

/** The tags an event invalidates. */
export function tagsForEvent(ev: ApiEvent): Tag[] {
  switch (ev.type) {
    case "events_added":
      return ["events", "events:" + ev.source, "sources"];
    case "source_state":
      return ["sources", "source:" + ev.source];
    case "sources_changed":
    case "task_finished":
      return ["sources", "events"];
    case "lagged":
      return ["*"];
    default:
      return [];
  }
}

export class QueryClient {
  private entries = new Map<string, Entry>();

  private entry(key: string, fetcher: () => Promise<unknown>, tags: Tag[]): Entry {
    let e = this.entries.get(key);
    if (!e) {
      const [state, set] = createSignal<QueryState<unknown>>({ data: undefined, error: null, loading: false });
      e = { key, tags, fetcher, state, set, inflight: null, generation: 0, users: 0, stale: true };
      this.entries.set(key, e);
    } else {
      e.fetcher = fetcher;
      e.tags = tags;
    }
    return e;
  }

  private run(e: Entry): Promise<unknown> {
    if (e.inflight) return e.inflight;
    const gen = ++e.generation;
    e.stale = false;
    e.set((s) => ({ ...s, loading: true }));
    const p = e.fetcher().then(
      (data) => {
        if (gen === e.generation) e.set({ data, error: null, loading: false });
        return data;
      },
      (err: unknown) => {
        const error = ApiError.from(err);
        if (gen === e.generation) e.set((s) => ({ data: s.data, error, loading: false }));
        throw error;
      },
    );
    e.inflight = p.finally(() => {
      if (e.inflight === tracked) e.inflight = null;
    });
    const tracked = e.inflight;
    // Callers that only watch the signal must not see an unhandled rejection.
    tracked.catch(() => {});
    return tracked;
  }

  /** Fetches (or joins the call in flight for) `key`; resolves with the data. */
  fetch<T>(key: string, fetcher: () => Promise<T>, tags: Tag[] = []): Promise<T> {
    const e = this.entry(key, fetcher, tags);
    if (!e.stale && !e.inflight && e.state().data !== undefined && !e.state().error) return Promise.resolve(e.state().data as T);
    return this.run(e) as Promise<T>;
  }

  /** The state signal of `key`, fetching it if it is not fresh. Call `release` when done. */
  watch<T>(key: string, fetcher: () => Promise<T>, tags: Tag[] = []): { state: Accessor<QueryState<T>>; release: () => void } {
    const e = this.entry(key, fetcher, tags);
    e.users++;
    if (e.stale || (e.state().error && !e.inflight)) void this.run(e).catch(() => {});
    let released = false;
    return {
      state: e.state as Accessor<QueryState<T>>,
      release: () => {
        if (released) return;
        released = true;
        e.users--;
      },
    };
  }

  /** Refetches watched entries carrying any of `tags`; forgets unwatched ones. */
  invalidate(tags: Tag[] | ((entryTags: Tag[], key: string) => boolean)): void {
    const hit = typeof tags === "function" ? tags : (t: Tag[]) => t.some((x) => tags.includes(x));
    for (const e of [...this.entries.values()]) {
      if (!hit(e.tags, e.key)) continue;
      if (e.users > 0) {
        e.stale = true;
        e.inflight = null;
        void this.run(e).catch(() => {});
      } else {
        this.entries.delete(e.key);
      }
    }
  }

  /** Everything (after the event stream reconnects, events may have been missed). */
  invalidateAll(): void {
    this.invalidate(() => true);
  }

  handleEvent(ev: ApiEvent): void {
    const tags = tagsForEvent(ev);
    if (tags.includes("*")) this.invalidateAll();
    else if (tags.length) this.invalidate(tags);
  }

  /**
   * Like {@link handleEvent}, but gathers what events invalidate and refetches at most once
   * per `ms` (a busy source sends events many times a second).
   */
  batchedHandler(ms = 500): (ev: ApiEvent) => void {
    let pending = new Set<Tag>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      const tags = [...pending];
      pending = new Set();
      if (tags.includes("*")) this.invalidateAll();
      else if (tags.length) this.invalidate(tags);
    };
    return (ev) => {
      for (const t of tagsForEvent(ev)) pending.add(t);
      if (pending.size && !timer) timer = setTimeout(flush, ms);
    };
  }

  /** Sets an entry's data directly (after a mutation that returns the new value). */
  setData<T>(key: string, data: T): void {
    const e = this.entries.get(key);
    if (e) e.set({ data, error: null, loading: false });
  }

  size(): number {
    return this.entries.size;
  }
}

export const queryClient = new QueryClient();
