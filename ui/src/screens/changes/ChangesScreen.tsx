import { createEffect, createMemo, createSignal, on, onCleanup, onMount, Show, untrack } from "solid-js";
import type { EventFilter, EventSummary } from "../../api";
import { call, connection, download, subscribe } from "../../transport";
import { createQuery } from "../../query";
import { useRouter } from "../../app/context";
import { to, type Query } from "../../router";
import { listKeyAction } from "../../lib/keys";
import { formatCount, localInputToIso, visible, zoneLabel } from "../../lib/format";
import { VirtualList, type VirtualListApi } from "../../components/VirtualList";
import { EventRow, ROW_HEIGHT, rowLink } from "../../components/EventRow";
import { Filters } from "../../components/Filters";
import { ErrorBanner } from "../../components/ErrorBanner";
import { EmptyState } from "../../components/EmptyState";
import { Spinner } from "../../components/Spinner";
import { ExportButton } from "../../components/ExportButton";
import { OpenRecordDialog } from "../../components/OpenRecordDialog";
import { ApiError } from "../../transport/errors";
import { EventPages, type PageFetcher } from "./paging";
import { filterFromQuery, FILTER_KEYS, isFiltered } from "./filters";

export const apiFetcher: PageFetcher = {
  count: (filter) => call("count_events", { filter, budget_ms: 1500 }),
  list: (req) => call("list_events", req),
  at: (req) => call("events_at", req),
};

/**
 * Where the list was, to come back to it from a record (per filter and order): the selected
 * row, the scroll position and the row count then (new changes above it shift both).
 */
const remembered = new Map<string, { selected: number; scrollTop: number; count: number }>();

/** Forgets every remembered list position (tests). */
export function forgetListPositions(): void {
  remembered.clear();
}

/** Does an event of `source` belong in a list filtered by `f`? (Only the source is known.) */
function concerns(f: EventFilter, source: string) {
  return !f.source || f.source === source;
}

export function ChangesScreen(props: { fetcher?: PageFetcher; queryOverride?: Query; embedded?: boolean }) {
  const router = useRouter();
  // While another screen takes over (on the way out), the list keeps its own query: a change
  // here would start it over and lose the place it is about to remember.
  let lastQuery: Query = {};
  const query = createMemo((): Query => {
    if (props.queryOverride) return props.queryOverride;
    const r = router.route();
    if (r.name === "changes") lastQuery = r.query;
    return lastQuery;
  });
  const active = () => props.queryOverride !== undefined || router.route().name === "changes";
  const filter = createMemo(() => filterFromQuery(query()), undefined, { equals: (a, b) => JSON.stringify(a) === JSON.stringify(b) });
  const newestFirst = createMemo(() => query().order !== "oldest");
  const grouped = () => query().group === "txn";
  const viewKey = () => JSON.stringify([filter(), newestFirst()]);

  const pages = new EventPages(props.fetcher ?? apiFetcher, filter(), newestFirst());
  const [selected, setSelected] = createSignal(-1);
  const [pendingNew, setPendingNew] = createSignal(0);
  const [firstVisible, setFirstVisible] = createSignal(0);
  const [lastVisible, setLastVisible] = createSignal(0);
  const [exportError, setExportError] = createSignal<ApiError | null>(null);
  const [jumping, setJumping] = createSignal(false);
  const [opening, setOpening] = createSignal(false);
  const [jumpError, setJumpError] = createSignal<ApiError | null>(null);
  let list: VirtualListApi | undefined;
  let search: HTMLInputElement | undefined;
  let restoring: { selected: number; scrollTop: number; count: number } | undefined;

  const sources = createQuery(() => ({ command: "list_sources", args: {}, tags: ["sources"] }));
  const tables = createQuery(() => ({ command: "list_tables", args: {}, tags: ["events"] }));
  /** The column filter names no column of any captured table (in any case). */
  const unknownColumn = () => {
    const c = filter().column?.toLowerCase();
    const all = tables.data()?.tables;
    return !!c && !!all && !all.some((t) => t.columns.some((x) => x.name.toLowerCase() === c));
  };
  const live = () => (sources.data()?.sources ?? []).filter((s) => s.state === "live" && concerns(filter(), s.name)).map((s) => s.name);

  createEffect(
    on([filter, newestFirst], ([f, nf]) => {
      restoring = remembered.get(untrack(viewKey));
      setSelected(-1);
      setPendingNew(0);
      void pages.reset(f, nf).then(() => {
        const r = restoring;
        restoring = undefined;
        const el = list?.element();
        const n = pages.count();
        if (!el) return;
        if (!r || n === null) {
          el.scrollTop = 0;
          return;
        }
        // Newest first, changes that arrived meanwhile sit above the remembered place.
        const shift = nf ? Math.max(0, n - r.count) : 0;
        const target = r.scrollTop + shift * ROW_HEIGHT;
        if (r.selected >= 0) setSelected(Math.min(n - 1, r.selected + shift));
        el.scrollTop = target;
        // The rows' height may land a frame later; scroll again once it has.
        requestAnimationFrame(() => {
          if (Math.abs(el.scrollTop - target) > 1) el.scrollTop = target;
        });
      });
    }),
  );

  /** Remembers where the list is (called as it scrolls and as the selection moves). */
  const remember = () =>
    untrack(() => {
      const el = list?.element();
      const n = pages.count();
      if (!active() || !el || n === null || restoring) return;
      remembered.set(viewKey(), { selected: selected(), scrollTop: el.scrollTop, count: n });
    });
  createEffect(on(selected, remember, { defer: true }));

  // Live tail: a list at its newest end follows new events; elsewhere a pill offers them.
  let tailTimer: ReturnType<typeof setTimeout> | undefined;
  let tailPending = false;
  const atNewestEnd = () => {
    const n = pages.count() ?? 0;
    return newestFirst() ? firstVisible() === 0 && selected() <= 0 : lastVisible() >= n - 2;
  };
  const followTail = () => {
    if (tailTimer) {
      tailPending = true;
      return;
    }
    void pages.extend().then((added) => {
      if (added > 0 && !newestFirst() && atNewestEnd()) list?.scrollToEnd();
    });
    tailTimer = setTimeout(() => {
      tailTimer = undefined;
      if (tailPending) {
        tailPending = false;
        followTail();
      }
    }, 1000);
  };
  onCleanup(() => clearTimeout(tailTimer));
  onCleanup(
    subscribe((ev) => {
      // A removed source takes its events along: positions change, start over.
      if (ev.type === "sources_changed") return void pages.reset();
      // Back after a break (the server restarted): what failed meanwhile is read again.
      if (ev.type === "lagged" && (pages.error() || pages.count() === null)) return void pages.reset();
      // Missed events (a slow subscriber): as if any source had new ones.
      const source = ev.type === "events_added" ? ev.source : ev.type === "lagged" ? null : undefined;
      if (source === undefined || (source !== null && !concerns(filter(), source))) return;
      if (atNewestEnd() || !newestFirst()) followTail();
      else countNew();
    }),
  );

  // How many changes arrived above the place the user is reading ("3 new changes").
  let newTimer: ReturnType<typeof setTimeout> | undefined;
  const countNew = () => {
    if (newTimer) return;
    newTimer = setTimeout(() => {
      newTimer = undefined;
      const shown = pages.count();
      if (shown === null) return;
      void call("count_events", { filter: filter(), budget_ms: 500 }).then(
        (r) => setPendingNew(Math.max(0, r.count - shown)),
        () => {},
      );
    }, 300);
  };
  onCleanup(() => clearTimeout(newTimer));

  const showNew = () => {
    setPendingNew(0);
    setSelected(-1);
    void pages.extend().then(() => list?.scrollToIndex(0, "start"));
  };

  const patchQuery = (patch: Query) => {
    const q = { ...query(), ...patch };
    for (const k of Object.keys(q)) if (!q[k]) delete q[k];
    router.navigate(to.changes(q), { replace: true });
  };
  const clearFilters = () => {
    const q: Query = {};
    for (const [k, v] of Object.entries(query())) if (!(FILTER_KEYS as readonly string[]).includes(k)) q[k] = v;
    router.navigate(to.changes(q), { replace: true });
  };

  // A truncate concerns no one record: it opens its transaction.
  const open = (e: EventSummary) => {
    remember();
    router.navigate(rowLink(e));
  };

  const move = (i: number) => {
    setSelected(i);
    list?.scrollToIndex(i, "auto");
  };

  const onKey = (e: KeyboardEvent) => {
    if (document.querySelector(".modal-backdrop")) return;
    const n = pages.count() ?? 0;
    const a = listKeyAction(e, { count: n, selected: selected(), pageRows: Math.floor((list?.element()?.clientHeight ?? 600) / ROW_HEIGHT) - 1 });
    if (!a) return;
    e.preventDefault();
    switch (a.type) {
      case "move":
        move(a.index);
        break;
      case "open": {
        const ev = pages.row(a.index);
        if (ev) open(ev);
        break;
      }
      case "focusSearch":
        search?.focus();
        search?.select();
        break;
      case "escape":
        if (document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLSelectElement) {
          (document.activeElement as HTMLElement).blur();
          list?.element()?.focus();
        } else if (selected() >= 0) setSelected(-1);
        else if (!props.embedded && isFiltered(filter())) clearFilters();
        break;
    }
  };
  onMount(() => document.addEventListener("keydown", onKey));
  onCleanup(() => document.removeEventListener("keydown", onKey));

  const jumpTo = async (value: string) => {
    const iso = localInputToIso(value);
    if (!iso) return;
    setJumping(true);
    setJumpError(null);
    try {
      const r = await call("locate_time", { filter: filter(), at: iso });
      const n = pages.count() ?? 0;
      if (!n) return;
      // The first change at or after the time; past the end: the newest change.
      const index = Math.min(r.index, n - 1);
      const row = pages.rowOf(index);
      setSelected(row);
      list?.scrollToIndex(row, newestFirst() ? "end" : "start");
    } catch (e) {
      setJumpError(ApiError.from(e));
    } finally {
      setJumping(false);
    }
  };

  const count = () => pages.count();
  const down = () => connection() === "disconnected";
  /** Counting can go on: the server is there and has not failed. */
  const counting = () => count() === null && !pages.error() && !down();

  /** A filter naming a source or table that is not (any longer) in the cache. */
  const missing = (): { key: "source" | "table"; value: string } | null => {
    const e = pages.error();
    if (!e || e.code !== "not_found") return null;
    const f = filter();
    if (f.source && e.message.startsWith("filter.source")) return { key: "source", value: f.source };
    if (f.table && e.message.startsWith("filter.table")) return { key: "table", value: f.table };
    return null;
  };

  /** The value search is shorter than the cache's full-text index can look for. */
  const shortSearch = () => {
    const e = pages.error();
    return !!e && e.code === "bad_request" && e.message.startsWith("filter.search");
  };

  /** The export streams in a browser (every row, in the list's order); false in the desktop app. */
  const streamExport = async (format: "csv" | "json"): Promise<string | null> => {
    const q: Record<string, string> = { format, filter: JSON.stringify(filter()) };
    if (newestFirst()) q.newest_first = "true";
    if (!(await download("export/events", q))) return null;
    const n = count();
    return `Your browser is saving events.${format === "csv" ? "csv" : "jsonl"}${n !== null ? `: ${formatCount(n)} ${n === 1 ? "change" : "changes"}` : ""}, ${newestFirst() ? "newest" : "oldest"} first as listed.`;
  };

  return (
    <div class="screen s-flex-1" data-testid="screen-changes">
      <Show when={!props.embedded}>
        <Filters query={query()} onChange={patchQuery} onClear={clearFilters} searchRef={(el) => (search = el)} />
      </Show>
      <div class="listbar" data-testid="listbar">
        <span data-testid="event-count">
          <Show
            when={count() !== null}
            fallback={<>{!counting() ? (down() ? "Not counted: disconnected" : shortSearch() ? "Search needs 3 characters" : "Not counted") : pages.counted() !== null ? `Counting… ${formatCount(pages.counted())} so far` : "Counting…"}</>}
          >
            <strong class="s-c-fg">{formatCount(count())}</strong> {count() === 1 ? "change" : "changes"}
            {isFiltered(filter()) ? " matching" : ""}
          </Show>
        </span>
        <Show when={!down() && !pages.error() && (pages.loading() > 0 || count() === null)}>
          <Spinner label="Loading changes" />
        </Show>
        <Show
          when={!down()}
          fallback={
            <span class="state state-error" title="The Rowtrail server does not answer; this page reconnects when it is back" data-testid="disconnected">
              Disconnected
            </span>
          }
        >
          <Show when={live().length && newestFirst()}>
            <span class="state state-live" title={`Following ${live().join(", ")}: new changes appear at the top`} data-testid="live-indicator">
              Live
            </span>
          </Show>
        </Show>
        <span class="spacer" />
        <Show when={!props.embedded}>
          <span class="seg" role="group" aria-label="Grouping">
            <button class="small" aria-pressed={!grouped()} onClick={() => patchQuery({ group: "" })} data-testid="group-flat">
              Flat
            </button>
            <button class="small" aria-pressed={grouped()} onClick={() => patchQuery({ group: "txn" })} data-testid="group-txn">
              By transaction
            </button>
          </span>
          <span class="seg" role="group" aria-label="Order">
            <button class="small" aria-pressed={newestFirst()} onClick={() => patchQuery({ order: "" })} data-testid="order-newest">
              Newest first
            </button>
            <button class="small" aria-pressed={!newestFirst()} onClick={() => patchQuery({ order: "oldest" })} data-testid="order-oldest">
              Oldest first
            </button>
          </span>
          <label class="s-d-inline-flex_gap-4px_ai-center" title="Scroll to the changes committed at this time">
            Jump to
            <input
              type="datetime-local"
              data-testid="jump-time"
              aria-label="Jump to time"
              onChange={(e) => void jumpTo(e.currentTarget.value)}
              class="s-h-24px_w-178px"
            />
          </label>
          <Show when={jumping()}>
            <Spinner label="Jumping" />
          </Show>
        </Show>
        <Show when={!props.embedded}>
          <button class="small" onClick={() => setOpening(true)} data-testid="open-record" title="Go to one record's history by its table and key">
            Open record…
          </button>
        </Show>
        <ExportButton
          what="this list"
          run={(format) => call("export_events", { filter: filter(), format, newest_first: newestFirst() })}
          stream={streamExport}
          onError={setExportError}
          testid="export-list"
        />
        <span class="muted" title="j/k or arrows move · Enter opens · / searches · Esc clears · End goes to the last change">
          <span class="kbd">j</span> <span class="kbd">k</span> <span class="kbd">↵</span> <span class="kbd">/</span>
        </span>
      </div>
      <Show when={opening()}>
        <OpenRecordDialog initialTable={query().table} onClose={() => setOpening(false)} onOpen={(hash) => router.navigate(hash)} />
      </Show>
      <Show when={exportError()}>{(e) => <div class="s-p-0-12px"><ErrorBanner title="Export failed" error={e()} onDismiss={() => setExportError(null)} /></div>}</Show>
      <Show when={jumpError()}>{(e) => <div class="s-p-0-12px"><ErrorBanner title="Could not jump to that time" error={e()} onDismiss={() => setJumpError(null)} /></div>}</Show>
      <Show when={missing()}>
        {(m) => (
          <EmptyState
            title={`No ${m().key} named “${visible(m().value)}”`}
            testid="changes-missing-filter"
            actions={
              <button onClick={() => patchQuery(m().key === "source" ? { source: "", table: "", column: "" } : { table: "", column: "" })} data-testid="remove-missing-filter">
                Remove this filter
              </button>
            }
          >
            {m().key === "source"
              ? "This address filters by a source that is not in this workspace (it may have been removed)."
              : "This address filters by a table that has no captured changes here."}
          </EmptyState>
        )}
      </Show>
      <Show when={shortSearch()}>
        <EmptyState title="Type at least 3 characters to search values" testid="changes-search-short">
          Value search looks for text of 3 characters or more in old and new values; “{visible(filter().search ?? "")}” is shorter. Add a character, or clear the search box.
        </EmptyState>
      </Show>
      <Show when={pages.error() && !missing() && !shortSearch()}>
        <div class="s-p-0-12px">
          <ErrorBanner title={down() ? "Disconnected from the Rowtrail server" : "Could not load the changes"} error={pages.error()!} onRetry={() => void pages.reset()} />
        </div>
      </Show>
      <Show when={!missing() && !shortSearch()}>
      <Show
        when={count() !== 0}
        fallback={
          <Show
            when={isFiltered(filter()) && !props.embedded}
            fallback={
              <EmptyState
                title="No changes recorded yet"
                testid="changes-empty"
                actions={
                  <a class="btn" href={to.sources()}>
                    Go to Sources
                  </a>
                }
              >
                Add a source (a PostgreSQL database or a SQLite file) and start capturing: every insert, update and delete will appear here.
              </EmptyState>
            }
          >
            <EmptyState
              title="No changes match these filters"
              testid="changes-empty-filtered"
              actions={
                <button onClick={clearFilters} data-testid="empty-clear-filters">
                  Clear filters
                </button>
              }
            >
              {filter().column && unknownColumn()
                ? `No captured table has a column named “${visible(filter().column!)}”. Pick one from the list (choose a table first), or clear the filter.`
                : filter().search && filter().search!.length < 3
                  ? "Value search needs at least 3 characters."
                  : "Widen the time range, pick another table or operation, or clear the filters."}
            </EmptyState>
          </Show>
        }
      >
        <div class="list-head" aria-hidden="true">
          <span title="Commit time in this computer's time zone (the exact UTC time is in each row's tooltip)" data-testid="time-zone">
            Committed ({zoneLabel()})
          </span>
          <span>Transaction</span>
          <span>Operation</span>
          <span>Table</span>
          <span>Key</span>
          <span class="h-cols">Changed</span>
          <span>Actor</span>
        </div>
        <div class="list-wrap">
          <Show when={pendingNew() > 0}>
            <button class="primary small new-pill" onClick={showNew} data-testid="new-events">
              ↑ {formatCount(pendingNew())} new {pendingNew() === 1 ? "change" : "changes"} — show them
            </button>
          </Show>
          <VirtualList
            count={count() ?? 0}
            rowHeight={ROW_HEIGHT}
            data-testid="changes-list"
            aria-label="Changes"
            activeId={selected() >= 0 && pages.row(selected()) ? `event-${pages.row(selected())!.id}` : undefined}
            ref={(api) => (list = api)}
            onRange={(first, last) => {
              setFirstVisible(first);
              setLastVisible(last);
              pages.ensure(first, last);
              remember();
            }}
            renderRow={(i) => (
              <EventRow
                event={pages.row(i)}
                index={i}
                selected={selected() === i}
                grouped={grouped()}
                continued={i > 0 && pages.row(i) !== undefined && pages.row(i - 1)?.txn_row === pages.row(i)?.txn_row}
                onSelect={setSelected}
                onOpen={open}
              />
            )}
          />
        </div>
      </Show>
      </Show>
    </div>
  );
}
