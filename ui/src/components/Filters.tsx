import { createEffect, createSignal, For, onCleanup, Show } from "solid-js";
import type { Query } from "../router";
import type { CapturedTable } from "../api";
import { createQuery } from "../query";
import { isoToLocalInput, localInputToIso, visible } from "../lib/format";

/** A text input that reports its value after a pause in typing (and at once on Enter). */
function DebouncedInput(props: {
  value: string;
  onCommit: (v: string) => void;
  placeholder: string;
  class?: string;
  testid: string;
  type?: string;
  ref?: (el: HTMLInputElement) => void;
  title?: string;
  minLength?: number;
}) {
  const [v, setV] = createSignal(props.value);
  createEffect(() => setV(props.value));
  let t: ReturnType<typeof setTimeout> | undefined;
  const commit = (x: string) => {
    clearTimeout(t);
    if (props.minLength && x.length > 0 && x.length < props.minLength) return;
    if (x !== props.value) props.onCommit(x);
  };
  onCleanup(() => clearTimeout(t));
  return (
    <input
      ref={props.ref}
      type={props.type ?? "text"}
      class={props.class}
      value={v()}
      placeholder={props.placeholder}
      title={props.title}
      data-testid={props.testid}
      aria-label={props.placeholder}
      onInput={(e) => {
        const x = e.currentTarget.value;
        setV(x);
        clearTimeout(t);
        t = setTimeout(() => commit(x), 350);
      }}
      onKeyDown={(e) => {
        if (e.key === "Enter") commit(e.currentTarget.value);
      }}
    />
  );
}

export interface FiltersProps {
  query: Query;
  onChange: (patch: Query) => void;
  onClear: () => void;
  searchRef?: (el: HTMLInputElement) => void;
}

/** Filters for the Changes list: source, table, operation, time range, actor, column, value. */
export function Filters(props: FiltersProps) {
  const tables = createQuery(() => ({ command: "list_tables", args: {}, tags: ["events"] }));
  const sources = () => [...new Set((tables.data()?.tables ?? []).map((t) => t.source))];
  // A filter from the address that names something not listed (a removed source) still
  // filters: it stays visible as an option of its own, so it can be seen and removed.
  const strayValue = (v: string | undefined, known: string[]) => (v && tables.data() && !known.includes(v) ? v : null);
  const visibleTables = () => (tables.data()?.tables ?? []).filter((t: CapturedTable) => !props.query.source || t.source === props.query.source);
  /** Columns of the chosen table (every source's table of that name). */
  const columns = () => {
    const t = props.query.table;
    if (!t) return [];
    const names = new Set<string>();
    for (const x of visibleTables()) if (x.qualified === t || x.table === t) for (const c of x.columns) names.add(c.name);
    return [...names];
  };
  const set = (k: string) => (v: string) => props.onChange({ [k]: v });
  const any = () => Object.entries(props.query).some(([k, v]) => v && !["group", "order"].includes(k));
  return (
    <div class="filters" data-testid="filters" role="search">
      <DebouncedInput
        type="search"
        value={props.query.q ?? ""}
        onCommit={set("q")}
        placeholder="Search values…  /"
        testid="filter-search"
        ref={props.searchRef}
        title="Find changes whose old or new values contain this text (at least 3 characters)"
      />
      <select value={props.query.source ?? ""} onChange={(e) => props.onChange({ source: e.currentTarget.value, table: "", column: "" })} data-testid="filter-source" aria-label="Source">
        <option value="">All sources</option>
        <Show when={strayValue(props.query.source, sources())}>
          {(v) => (
            <option value={v()} selected data-testid="filter-source-missing">
              {visible(v())} (not in this workspace)
            </option>
          )}
        </Show>
        <For each={sources()}>
          {(s) => (
            <option value={s} selected={s === props.query.source}>
              {s}
            </option>
          )}
        </For>
      </select>
      <select value={props.query.table ?? ""} onChange={(e) => props.onChange({ table: e.currentTarget.value, column: "" })} data-testid="filter-table" aria-label="Table">
        <option value="">All tables</option>
        <Show when={strayValue(props.query.table, visibleTables().flatMap((t) => [t.qualified, t.table]))}>
          {(v) => (
            <option value={v()} selected>
              {visible(v())} (no changes captured)
            </option>
          )}
        </Show>
        <For each={visibleTables()}>
          {(t) => (
            <option value={t.qualified} selected={t.qualified === props.query.table}>
              {t.qualified}
              {sources().length > 1 && !props.query.source ? ` (${t.source})` : ""}
            </option>
          )}
        </For>
      </select>
      <select value={props.query.op ?? ""} onChange={(e) => set("op")(e.currentTarget.value)} data-testid="filter-op" aria-label="Operation">
        <option value="">All operations</option>
        <option value="insert">+ Insert</option>
        <option value="update">~ Update</option>
        <option value="delete">− Delete</option>
        <option value="truncate">∅ Truncate</option>
      </select>
      <Show
        when={columns().length}
        fallback={<DebouncedInput class="narrow" value={props.query.column ?? ""} onCommit={set("column")} placeholder="Changed column" testid="filter-column" />}
      >
        <select value={props.query.column ?? ""} onChange={(e) => set("column")(e.currentTarget.value)} data-testid="filter-column" aria-label="Changed column">
          <option value="">Any column changed</option>
          <For each={columns()}>
            {(c) => (
              <option value={c} selected={c === props.query.column}>
                {c}
              </option>
            )}
          </For>
        </select>
      </Show>
      <DebouncedInput class="narrow" value={props.query.actor ?? ""} onCommit={set("actor")} placeholder="Actor / context" testid="filter-actor" />
      {/* The time range wraps as one piece when the bar is too narrow for one line. */}
      <span class="filters-range">
        <span class="sep" />
        <label class="muted s-d-inline-flex_ai-center_gap-4px">
          From
          <input
            type="datetime-local"
            value={isoToLocalInput(props.query.since)}
            onChange={(e) => set("since")(localInputToIso(e.currentTarget.value) ?? "")}
            data-testid="filter-since"
            aria-label="Changed at or after"
          />
        </label>
        <label class="muted s-d-inline-flex_ai-center_gap-4px">
          to
          <input
            type="datetime-local"
            value={isoToLocalInput(props.query.until)}
            onChange={(e) => set("until")(localInputToIso(e.currentTarget.value) ?? "")}
            data-testid="filter-until"
            aria-label="Changed before"
          />
        </label>
      </span>
      {/* Filters set from other screens, without a control of their own here. */}
      <Show when={props.query.txid}>
        <span class="chip" data-testid="filter-txid" title="Only the changes of this transaction (set from the Transaction screen)">
          Transaction {visible(props.query.txid)}
          <button class="chip-x" onClick={() => props.onChange({ txid: "" })} aria-label="Remove the transaction filter" title="Remove this filter" data-testid="filter-txid-remove">
            ×
          </button>
        </span>
      </Show>
      <Show when={any()}>
        <button class="small ghost" onClick={() => props.onClear()} data-testid="filter-clear" title="Clear all filters (Esc)">
          Clear filters
        </button>
      </Show>
    </div>
  );
}
