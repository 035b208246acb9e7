import { Show } from "solid-js";
import type { EventSummary } from "../api";
import { to } from "../router";
import { contextActor, contextText, formatKey, formatTime, timeTitle, visible } from "../lib/format";
import { columnLabel } from "../lib/labels";

export const ROW_HEIGHT = 28;

export function recordLink(e: EventSummary): string {
  return to.record(e.source, `${e.schema}.${e.table}`, e.key.map(([, v]) => v ?? ""));
}

export function txnLink(e: { source: string; txid: string; txn_row: number }): string {
  return to.txn(e.source, e.txid, e.txn_row);
}

/** Where a row leads: the record's history, or for a truncate (no one record) its transaction. */
export function rowLink(e: EventSummary): string {
  return e.op === "truncate" || e.key.length === 0 ? txnLink(e) : recordLink(e);
}

/** The row's tooltip: everything a narrow column may cut (key, actor and context, exact time). */
function rowTitle(e: EventSummary, labels: string[]): string {
  const table = e.schema === "public" || e.schema === "main" ? e.table : `${e.schema}.${e.table}`;
  const lines = [
    `${e.op} ${table} ${e.key.map(([k, v]) => `${k} = ${v ?? "NULL"}`).join(", ")}`,
    contextText(e.context),
    `committed ${timeTitle(e.committed_at)}`,
    (labels.length ? "changed: " + labels.join(", ") + "\n" : "") + e.summary,
  ];
  return visible(lines.filter((l) => l).join("\n"));
}

export function OpLabel(props: { op: string }) {
  return <span class={"op op-" + props.op}>{props.op}</span>;
}

/**
 * One change in a list (fixed height, see ROW_HEIGHT). In grouped mode, rows after the first
 * of a transaction hide the transaction's columns and show a connector instead.
 */
export function EventRow(props: {
  event: EventSummary | undefined;
  index: number;
  selected: boolean;
  grouped?: boolean;
  /** The transaction continues from the row above. */
  continued?: boolean;
  onOpen: (e: EventSummary, index: number) => void;
  onSelect: (index: number) => void;
}) {
  return (
    <Show
      when={props.event}
      keyed
      fallback={
        <div class="erow placeholder" data-testid="event-row-loading" aria-busy="true">
          <span class="skeleton" />
          <span class="skeleton" />
          <span class="skeleton" />
          <span class="skeleton" />
          <span class="skeleton" />
          <span class="skeleton" />
          <span class="skeleton" />
        </div>
      }
    >
      {(e) => {
        const cols = e.changed;
        const labels = cols.map((c) => columnLabel({ source: e.source, schema: e.schema, table: e.table, column: c }).label);
        const actor = contextActor(e.context);
        const opens = e.op === "truncate" || e.key.length === 0 ? `transaction ${e.txid}` : `the history of ${e.table} ${formatKey(e.key)}`;
        return (
          <div
            id={`event-${e.id}`}
            class={"erow" + (props.grouped ? " grouped" : "") + (props.grouped && props.continued ? " tx-cont" : props.grouped ? " tx-first" : "")}
            role="option"
            aria-selected={props.selected}
            data-testid="event-row"
            data-index={props.index}
            data-id={e.id}
            data-op={e.op}
          >
            {/* The whole row is a link (under the cells; the transaction link sits above it), so
                a middle or Ctrl-click opens the record in a new tab. Not a tab stop: the list's
                keys move and open. */}
            <a
              class="row-link"
              href={rowLink(e)}
              tabIndex={-1}
              aria-label={`Open ${opens}`}
              title={rowTitle(e, labels)}
              data-testid="row-link"
              onClick={(x) => {
                props.onSelect(props.index);
                if (x.button !== 0 || x.ctrlKey || x.metaKey || x.shiftKey || x.altKey) return;
                x.preventDefault();
                props.onOpen(e, props.index);
              }}
            />
            <span class="time">{formatTime(e.committed_at)}</span>
            <span class="tx" title={visible(`${e.grouping === "statement" ? "statement group (not a whole transaction)" : "transaction"} ${e.txid} at ${e.position} (source ${e.source})`)}>
              <a href={txnLink(e)} data-testid="txn-link">
                {visible(`${e.source}·${e.txid}`)}
              </a>
            </span>
            <OpLabel op={e.op} />
            <span class="table">{visible(e.schema === "public" || e.schema === "main" ? e.table : `${e.schema}.${e.table}`)}</span>
            <span class="key">{visible(formatKey(e.key))}</span>
            <span class="cols">{visible(e.summary)}</span>
            <span class="actor">{visible(actor) || "—"}</span>
          </div>
        );
      }}
    </Show>
  );
}
