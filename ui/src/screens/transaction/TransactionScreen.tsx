import { createMemo, createSignal, For, Show } from "solid-js";
import type { EventDetail } from "../../api";
import { createQuery } from "../../query";
import { useRouter } from "../../app/context";
import { formatRoute, to, type Route } from "../../router";
import { formatCount, formatKey, formatTimeZoned, timeTitle, visible } from "../../lib/format";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Loading } from "../../components/Spinner";
import { OpLabel, recordLink } from "../../components/EventRow";
import { FieldChanges, InferredBadge } from "../../components/FieldChanges";
import { Unknown, type DiffLayout } from "../../components/DiffView";

const SHOW_STEP = 50;

function EventCard(props: { d: EventDetail; layout: DiffLayout }) {
  const e = () => props.d.event;
  const unchanged = () => {
    // The unchanged values are in the images: the after image (before for a delete).
    const changed = new Set(props.d.changes.map((c) => c.column));
    return (props.d.after ?? props.d.before ?? []).filter(([c]) => !changed.has(c)).map(([column, value]) => ({ column, type: "", value }));
  };
  return (
    <div class="card" data-testid="txn-event" data-id={e().id} data-op={e().op}>
      <div class="card-head">
        <OpLabel op={e().op} />
        <Show when={e().key.length} fallback={<span class="mono">{e().schema}.{e().table}</span>}>
          <a href={recordLink(e())} class="mono" data-testid="txn-event-record" title="Open this record's history">
            {visible(`${e().schema}.${e().table} ${formatKey(e().key)}`)}
          </a>
        </Show>
        <Show when={props.d.inferred.length}>
          <InferredBadge />
        </Show>
        <span class="s-flex-1" />
        <span class="subtle">event {e().id}</span>
      </div>
      <Show when={props.d.unknown.length}>
        <div class="card-body s-pb-0">
          <div class="banner warn">
            <span class="banner-icon">?</span>
            <div class="banner-body banner-msg">
              Earlier values not sent by the source and not held by an earlier version (shown as <Unknown />, never as NULL):{" "}
              {props.d.unknown.join(", ")}
            </div>
          </div>
        </div>
      </Show>
      <Show when={e().op === "delete" && props.d.changes.length > 0}>
        <div class="card-body muted s-pb-0" data-testid="deleted-note">
          The record it removed, each field with its last value:
        </div>
      </Show>
      <Show when={e().op !== "truncate"} fallback={<div class="card-body muted">The whole table was emptied.</div>}>
        <FieldChanges
          source={e().source}
          schema={e().schema}
          table={e().table}
          changes={props.d.changes}
          unchanged={unchanged()}
          unchangedCount={props.d.unchanged}
          layout={props.layout}
          unchangedLabel={e().op === "insert" ? "NULL" : undefined}
          emptyText={e().op === "delete" ? "The record was deleted." : "No field changed."}
        />
      </Show>
    </div>
  );
}

export function TransactionScreen() {
  const router = useRouter();
  const r = () => router.route() as Extract<Route, { name: "txn" }>;
  const args = createMemo(
    () => {
      const row = Number(r().query.row);
      return Number.isInteger(row) && row > 0 ? { txn_row: row, source: r().source } : { source: r().source, txid: r().txid };
    },
    undefined,
    { equals: (a, b) => JSON.stringify(a) === JSON.stringify(b) },
  );
  const txn = createQuery(() => ({ command: "transaction", args: args(), tags: ["events:" + r().source] }));
  const [shown, setShown] = createSignal(SHOW_STEP);
  const layout = (): DiffLayout => (r().query.layout === "split" ? "split" : "inline");
  const setLayout = (l: DiffLayout) => router.navigate(formatRoute({ ...r(), query: { ...r().query, layout: l === "split" ? "split" : "" } }), { replace: true });
  return (
    <div class="screen-scroll" data-testid="screen-transaction">
      <div class="page">
        <div class="crumbs">
          <a href={to.changes()}>Changes</a> / <a href={to.changes({ source: r().source })}>{r().source}</a> / transaction
        </div>
        <div class="page-head s-ai-flex-start">
          <div>
            <h1 data-testid="txn-title">
              {txn.data()?.grouping === "statement" ? "Statement group" : "Transaction"} <span class="mono">{r().txid}</span>
            </h1>
            <Show when={txn.data()}>
              {(t) => (
                <div class="muted s-mt-4px">
                  <span title={timeTitle(t().committed_at)} data-testid="txn-time">committed {formatTimeZoned(t().committed_at)}</span> · position <span class="mono">{t().position}</span> ·
                  source {visible(t().source)}
                  <For each={Object.entries(t().context)}>
                    {([k, v]) => (
                      <>
                        {" · "}
                        {visible(k)} <strong class="s-c-fg">{visible(v)}</strong>
                      </>
                    )}
                  </For>
                  <Show when={t().grouping === "statement"}>
                    <div data-testid="txn-grouping-note">
                      Not a whole transaction: this SQLite application does not number its transactions, so these are
                      the changes made by one statement (in the same millisecond); one commit may span several groups.
                    </div>
                  </Show>
                </div>
              )}
            </Show>
          </div>
          <span class="spacer" />
          <span class="seg" role="group" aria-label="Diff layout">
            <button class="small" aria-pressed={layout() === "inline"} onClick={() => setLayout("inline")} data-testid="layout-inline">
              Inline
            </button>
            <button class="small" aria-pressed={layout() === "split"} onClick={() => setLayout("split")} data-testid="layout-split">
              Side by side
            </button>
          </span>
          <button disabled title="Reverting a transaction comes with the revert feature: preview, conflicts, then apply" data-testid="txn-revert">
            Revert…
          </button>
        </div>
        <Show when={txn.error()}>
          <ErrorBanner title={`Could not read transaction ${r().txid}`} error={txn.error()} onRetry={txn.refetch} />
        </Show>
        <Show when={txn.data()} fallback={<Show when={!txn.error()}><Loading>Reading the transaction…</Loading></Show>}>
          {(t) => (
            <>
              <table class="grid card s-w-auto_minw-380px_mb-16px" data-testid="txn-counts">
                <thead>
                  <tr>
                    <th>Table</th>
                    <th>Operation</th>
                    <th class="num">Changes</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={t().counts}>
                    {(c) => (
                      <tr data-testid="txn-count" data-table={`${c.schema}.${c.table}`} data-op={c.op}>
                        <td>
                          <a href={to.changes({ source: t().source, table: `${c.schema}.${c.table}`, txid: t().txid, op: c.op, order: "oldest" })}>
                            {c.schema}.{c.table}
                          </a>
                        </td>
                        <td>
                          <OpLabel op={c.op} />
                        </td>
                        <td class="num">{formatCount(c.count)}</td>
                      </tr>
                    )}
                  </For>
                  <tr>
                    <td colSpan={2}>
                      <strong>Total</strong>
                    </td>
                    <td class="num" data-testid="txn-total">
                      <strong>{formatCount(t().event_count)}</strong>
                    </td>
                  </tr>
                </tbody>
              </table>
              <div class="s-d-flex_fd-column_gap-12px">
                <For each={t().events.slice(0, shown())}>{(d) => <EventCard d={d} layout={layout()} />}</For>
              </div>
              <Show when={t().events.length > shown() || t().truncated}>
                <div class="muted s-d-flex_gap-10px_ai-center_mt-14px">
                  Showing {formatCount(Math.min(shown(), t().events.length))} of {formatCount(t().event_count)} changes.
                  <Show when={t().events.length > shown()}>
                    <button onClick={() => setShown(shown() + SHOW_STEP)} data-testid="txn-more">
                      Show {formatCount(Math.min(SHOW_STEP, t().events.length - shown()))} more
                    </button>
                  </Show>
                  <a class="btn" href={to.changes({ source: t().source, txid: t().txid, order: "oldest" })} data-testid="txn-all">
                    List all in Changes
                  </a>
                </div>
              </Show>
            </>
          )}
        </Show>
      </div>
    </div>
  );
}
