import { createMemo, createSignal, For, Show } from "solid-js";
import type { CapturedTable } from "../api";
import { createQuery } from "../query";
import { to } from "../router";
import { Modal } from "./Modal";
import { Loading } from "./Spinner";
import { ErrorBanner } from "./ErrorBanner";

/** "Open record…": pick a table, type its key, go to the record's history. */
export function OpenRecordDialog(props: { onClose: () => void; onOpen: (hash: string) => void; initialTable?: string }) {
  const tables = createQuery(() => ({ command: "list_tables", args: {}, tags: ["events"] }));
  const [choice, setChoice] = createSignal(props.initialTable ?? "");
  const [values, setValues] = createSignal<Record<string, string>>({});
  const id = (t: CapturedTable) => `${t.source}\u0000${t.qualified}`;
  const table = createMemo(() => {
    const all = tables.data()?.tables ?? [];
    return all.find((t) => id(t) === choice()) ?? all.find((t) => t.qualified === choice() || t.table === choice()) ?? all[0];
  });
  const keyCols = () => (table()?.columns ?? []).filter((c) => c.key);
  // Spaces around a typed or pasted key are never part of it.
  const keyValue = (c: string) => (values()[c] ?? "").trim();
  const complete = () => keyCols().length > 0 && keyCols().every((c) => keyValue(c.name) !== "");
  const go = (e?: Event) => {
    e?.preventDefault();
    const t = table();
    if (!t || !complete()) return;
    props.onOpen(to.record(t.source, t.qualified, keyCols().map((c) => keyValue(c.name))));
  };
  return (
    <Modal
      title="Open a record"
      narrow
      onClose={props.onClose}
      testid="open-record-dialog"
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button class="primary" disabled={!complete()} onClick={() => go()} data-testid="open-record-go">
            Show history
          </button>
        </>
      }
    >
      <Show when={tables.error()}>
        <ErrorBanner title="Could not list the tables" error={tables.error()} onRetry={tables.refetch} />
      </Show>
      <Show when={tables.data()} fallback={<Show when={!tables.error()}><Loading>Loading tables…</Loading></Show>}>
        <form onSubmit={go} class="s-d-flex_fd-column_gap-12px">
          <label class="field">
            Table
            <select onChange={(e) => setChoice(e.currentTarget.value)} data-testid="open-record-table">
              <For each={tables.data()?.tables ?? []}>
                {(t) => (
                  <option value={id(t)} selected={table() === t}>
                    {t.qualified} ({t.source})
                  </option>
                )}
              </For>
            </select>
          </label>
          <For each={keyCols()} fallback={<div class="muted">This table has no key columns recorded.</div>}>
            {(c) => (
              <label class="field">
                {c.name} <span class="hint">key column, {c.type}</span>
                <input
                  class="mono"
                  value={values()[c.name] ?? ""}
                  onInput={(e) => setValues({ ...values(), [c.name]: e.currentTarget.value })}
                  data-testid={`open-record-key-${c.name}`}
                />
              </label>
            )}
          </For>
          <button type="submit" class="sr-only" tabIndex={-1}>
            Show history
          </button>
        </form>
      </Show>
    </Modal>
  );
}
