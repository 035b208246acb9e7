import { createSignal, For, Show } from "solid-js";
import type { FieldChangeInfo, UnchangedField } from "../api";
import { DiffView, Value, type DiffLayout } from "./DiffView";
import { ColumnName } from "./ColumnName";
import { ErrorBanner } from "./ErrorBanner";
import { Loading } from "./Spinner";

export const INFERRED_HELP =
  "Inferred: the source did not send this value (PostgreSQL's unchanged TOAST value, or the missing old row of a REPLICA IDENTITY DEFAULT update), so Rowtrail filled it from the record's previous version.";

export function InferredBadge() {
  return (
    <span class="badge inferred" title={INFERRED_HELP} data-testid="inferred-badge" tabIndex={0} aria-label={INFERRED_HELP}>
      ≈ inferred
    </span>
  );
}

/**
 * Changed fields first (in the backend's order), then the unchanged ones folded away. The
 * unchanged values are given, or loaded when the fold is opened.
 */
export function FieldChanges(props: {
  source: string;
  schema: string;
  table: string;
  changes: FieldChangeInfo[];
  unchanged: UnchangedField[] | (() => Promise<UnchangedField[]>);
  unchangedCount: number;
  layout: DiffLayout;
  emptyText?: string;
  /** What the folded fields are called ("unchanged"; "NULL" for an insert's NULL columns). */
  unchangedLabel?: string;
}) {
  const [open, setOpen] = createSignal(false);
  const [loaded, setLoaded] = createSignal<UnchangedField[] | null>(null);
  const [loading, setLoading] = createSignal(false);
  const [error, setError] = createSignal<unknown>(null);
  const rows = () => (Array.isArray(props.unchanged) ? props.unchanged : loaded());
  const toggle = async () => {
    const next = !open();
    setOpen(next);
    if (next && !Array.isArray(props.unchanged) && loaded() === null && !loading()) {
      setLoading(true);
      setError(null);
      try {
        setLoaded(await props.unchanged());
      } catch (e) {
        setError(e);
      } finally {
        setLoading(false);
      }
    }
  };
  const ref = (column: string) => ({ source: props.source, schema: props.schema, table: props.table, column });
  return (
    <div data-testid="field-changes">
      <table class="fields">
        <thead>
          <tr>
            <th class="s-w-200px">Field</th>
            <Show when={props.layout === "split"} fallback={<th>Change</th>}>
              <th>
                <span class="s-d-grid_gtc-1fr-1fr_gap-8px">
                  <span>Before</span>
                  <span>After</span>
                </span>
              </th>
            </Show>
          </tr>
        </thead>
        <tbody>
          <Show when={props.changes.length === 0}>
            <tr>
              <td colSpan={2} class="muted">
                {props.emptyText ?? "No field changed."}
              </td>
            </tr>
          </Show>
          <For each={props.changes}>
            {(c) => (
              <tr data-testid="field-change" data-column={c.column} data-kind={c.diff.kind}>
                <td class="col">
                  <ColumnName {...ref(c.column)} type={c.type} showType />
                  <Show when={c.inferred}>
                    <div class="s-mt-3px">
                      <InferredBadge />
                    </div>
                  </Show>
                </td>
                <td>
                  <DiffView diff={c.diff} layout={props.layout} unknown={c.unknown} />
                </td>
              </tr>
            )}
          </For>
          <Show when={open()}>
            <For each={rows() ?? []}>
              {(u) => (
                <tr data-testid="field-unchanged" data-column={u.column}>
                  <td class="col muted">
                    <ColumnName {...ref(u.column)} type={u.type} showType />
                  </td>
                  <td class="diff muted">
                    <Value value={u.value} />
                  </td>
                </tr>
              )}
            </For>
          </Show>
        </tbody>
      </table>
      <Show when={open() && loading()}>
        <div class="s-p-0-12px">
          <Loading>Reading the unchanged fields…</Loading>
        </div>
      </Show>
      <Show when={open() && error()}>
        <div class="s-p-0-12px">
          <ErrorBanner title="Could not read the unchanged fields" error={error()} />
        </div>
      </Show>
      <Show when={props.unchangedCount > 0}>
        <button class="fold" onClick={toggle} aria-expanded={open()} data-testid="toggle-unchanged">
          {open() ? "▾ Hide" : "▸ Show"} {props.unchangedCount} {props.unchangedLabel ?? "unchanged"} {props.unchangedCount === 1 ? "field" : "fields"}
        </button>
      </Show>
    </div>
  );
}
