import type { EventFilter, Op } from "../../api";
import type { Query } from "../../router";

const OPS: Op[] = ["insert", "update", "delete", "truncate"];

/** The Changes screen's filter as kept in the URL (`#/changes?table=shp&op=update…`). */
export function filterFromQuery(q: Query): EventFilter {
  const f: EventFilter = {};
  if (q.source) f.source = q.source;
  if (q.table) f.table = q.table;
  if (q.op && (OPS as string[]).includes(q.op)) f.op = q.op as Op;
  if (q.since) f.since = q.since;
  if (q.until) f.until = q.until;
  if (q.txid) f.txid = q.txid;
  if (q.actor) f.context = q.actor;
  if (q.column) f.column = q.column;
  if (q.q) f.search = q.q;
  return f;
}

export function isFiltered(f: EventFilter): boolean {
  return Object.values(f).some((v) => v !== null && v !== undefined && v !== "");
}

export const FILTER_KEYS = ["source", "table", "op", "since", "until", "txid", "actor", "column", "q"] as const;
