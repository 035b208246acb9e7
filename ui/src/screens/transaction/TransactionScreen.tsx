import { For, Show } from "solid-js";
import { createQuery } from "../../query";
import { useRouter } from "../../app/context";
import { to, type Route } from "../../router";
import { formatCount, formatTime, timeTitle } from "../../lib/format";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Loading } from "../../components/Spinner";
import { OpLabel } from "../../components/EventRow";
import { ChangesScreen } from "../changes/ChangesScreen";
import type { JsonValue } from "../../api";

function ctxValue(v: JsonValue): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function TransactionScreen() {
  const router = useRouter();
  const r = () => router.route() as Extract<Route, { name: "txn" }>;
  const txn = createQuery(() => ({ command: "transaction", args: { source: r().source, txid: r().txid }, tags: ["events:" + r().source] }));
  const total = () => (txn.data()?.counts ?? []).reduce((n, c) => n + c.count, 0);
  return (
    <div class="screen" data-testid="screen-transaction" style={{ flex: 1 }}>
      <div style={{ padding: "12px 20px", "border-bottom": "1px solid var(--border)" }}>
        <div class="crumbs">
          <a href={to.changes()}>Changes</a> / <a href={to.changes({ source: r().source })}>{r().source}</a> / transaction
        </div>
        <div class="page-head" style={{ margin: 0, "align-items": "flex-start" }}>
          <div>
            <h1 data-testid="txn-title">
              Transaction <span class="mono">{r().txid}</span>
            </h1>
            <Show when={txn.data()}>
              {(t) => (
                <div class="muted" style={{ "margin-top": "4px" }}>
                  <span title={timeTitle(t().committed_at)}>committed {formatTime(t().committed_at)}</span> · position <span class="mono">{t().position}</span> · source{" "}
                  {t().source}
                  <For each={Object.entries(t().context)}>
                    {([k, v]) => (
                      <>
                        {" · "}
                        {k} <strong style={{ color: "var(--fg)" }}>{ctxValue(v)}</strong>
                      </>
                    )}
                  </For>
                </div>
              )}
            </Show>
          </div>
          <span class="spacer" />
          <button disabled title="Reverting a transaction comes with the revert feature: preview, conflicts, then apply" data-testid="txn-revert">
            Revert…
          </button>
        </div>
        <Show when={txn.error()}>
          <ErrorBanner title={`Could not read transaction ${r().txid}`} error={txn.error()} onRetry={txn.refetch} />
        </Show>
        <Show when={txn.data()} fallback={<Show when={!txn.error()}><Loading>Reading the transaction…</Loading></Show>}>
          {(t) => (
            <div style={{ display: "flex", gap: "12px", "flex-wrap": "wrap", "margin-top": "12px" }}>
              <table class="grid card" style={{ width: "auto", "min-width": "360px" }} data-testid="txn-counts">
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
                          <a href={to.changes({ source: t().source, table: `${c.schema}.${c.table}`, txid: t().txid })}>
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
                    <td class="num">
                      <strong>{formatCount(total())}</strong>
                    </td>
                  </tr>
                </tbody>
              </table>
            </div>
          )}
        </Show>
      </div>
      <ChangesScreen embedded queryOverride={{ source: r().source, txid: r().txid, order: "oldest" }} />
    </div>
  );
}
