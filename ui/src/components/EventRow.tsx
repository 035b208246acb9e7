import { Show } from "solid-js";
import type { EventSummary } from "../api";
import { to } from "../router";
import { contextActor, contextText, formatKey, formatTime, timeTitle } from "../lib/format";
import { columnLabel } from "../lib/labels";

export const ROW_HEIGHT = 28;

export function recordLink(e: EventSummary): string {
  return to.record(e.source, `${e.schema}.${e.table}`, e.key.map(([, v]) => v ?? ""));
}

export function txnLink(e: { source: string; txid: string; txn_row: number }): string {
  return to.txn(e.source, e.txid, e.txn_row);
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
            onClick={() => {
              props.onSelect(props.index);
              props.onOpen(e, props.index);
            }}
          >
            <span class="time" title={timeTitle(e.committed_at)}>
              {formatTime(e.committed_at)}
            </span>
            <span class="tx" title={`transaction ${e.txid} at ${e.position} (source ${e.source})`}>
              <a href={txnLink(e)} onClick={(x) => x.stopPropagation()} data-testid="txn-link">
                {e.source}·{e.txid}
              </a>
            </span>
            <OpLabel op={e.op} />
            <span class="table" title={`${e.schema}.${e.table} (source ${e.source})`}>
              {e.schema === "public" || e.schema === "main" ? e.table : `${e.schema}.${e.table}`}
            </span>
            <span class="key" title={e.key.map(([k, v]) => `${k} = ${v ?? "NULL"}`).join("\n")}>
              {formatKey(e.key)}
            </span>
            <span class="cols" title={(labels.length ? "changed: " + labels.join(", ") + "\n" : "") + e.summary}>
              {e.summary}
            </span>
            <span class="actor" title={contextText(e.context)}>
              {actor || "—"}
            </span>
          </div>
        );
      }}
    </Show>
  );
}
