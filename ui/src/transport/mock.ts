// Development-only in-memory backend (`npm run dev`, then open `/?mock` or `/?mock=1000000`).
// Never part of the production bundle: `transport/index.ts` imports it only when
// `import.meta.env.DEV`. Events are generated from their index, so a million of them cost
// nothing until a page is asked for. It imitates the API's shapes, not its logic.
import type {
  ApiEvent,
  Comparison,
  EventDetail,
  EventFilter,
  EventPage,
  EventSummary,
  FieldChangeInfo,
  Op,
  RecordHistory,
  SourceInfo,
  TransactionDetail,
  VersionInfo,
} from "../api";
import type { Transport } from "./types";
import { ApiError } from "./errors";

const TABLES = [
  { schema: "public", table: "shp", cols: ["id", "st", "carrier", "dest", "notes", "meta"] },
  { schema: "public", table: "cust", cols: ["id", "name", "email", "tier"] },
  { schema: "public", table: "ln", cols: ["shp_id", "ln_no", "sku", "qty"] },
];
const ACTORS = ["ana@example.com", "bo@example.com", "ci-bot", "dmitri@example.com"];
const OPS: Op[] = ["update", "update", "update", "insert", "update", "delete"];
const BASE = Date.parse("2026-11-02T08:00:00Z");
const XSS = '<img src=x onerror="alert(1)">';

function tableOf(i: number) {
  return TABLES[i % 7 === 3 ? 1 : i % 5 === 2 ? 2 : 0]!;
}

/** Transactions of 1–3 events. */
function txnOf(i: number): number {
  return Math.floor(i / 2.5);
}

function timeOf(i: number) {
  return new Date(BASE + txnOf(i) * 3000).toISOString();
}

interface Full {
  summary: EventSummary;
  before: Array<[string, string | null]> | null;
  after: Array<[string, string | null]> | null;
  changes: FieldChangeInfo[];
}

function makeFull(i: number): Full {
  const t = tableOf(i);
  const op = OPS[(i * 31) % OPS.length]!;
  const tx = txnOf(i);
  const keyVal = String(1000 + ((i * 7919) % 5000));
  const key: Array<[string, string | null]> = t.table === "ln" ? [["shp_id", keyVal], ["ln_no", String((i % 4) + 1)]] : [["id", keyVal]];
  const st = ["P", "X", "D", "S"];
  const b: Record<string, string | null> = Object.fromEntries(key);
  const a: Record<string, string | null> = Object.fromEntries(key);
  if (t.table === "shp") {
    b.st = st[i % 4]!;
    a.st = st[(i + 1) % 4]!;
    b.carrier = "DHL";
    a.carrier = i % 9 === 0 ? "UPS" : "DHL";
    b.dest = a.dest = "Rotterdam";
    b.notes = a.notes = i % 17 === 3 ? XSS : "Leave at the front desk";
    b.meta = a.meta = '{"tags":["fragile"]}';
  } else if (t.table === "cust") {
    b.name = a.name = "Customer " + keyVal;
    b.email = a.email = "c" + keyVal + "@example.com";
    b.tier = "silver";
    a.tier = i % 2 ? "gold" : "silver";
  } else {
    b.sku = a.sku = "SKU-" + (i % 97);
    b.qty = String(i % 10);
    a.qty = String((i % 10) + 1);
  }
  const changed = op === "update" ? Object.keys(a).filter((k) => a[k] !== b[k]) : [];
  const changes: FieldChangeInfo[] =
    op === "update"
      ? changed.map((c) => ({ column: c, type: "text", old: b[c] ?? null, new: a[c] ?? null, diff: { kind: "replaced", old: b[c] ?? "", new: a[c] ?? "" }, inferred: false, unknown: false }))
      : op === "insert"
        ? Object.keys(a).map((c) => ({ column: c, type: "text", old: null, new: a[c] ?? null, diff: { kind: "set", new: a[c] ?? "" }, inferred: false, unknown: false }))
        : Object.keys(b).map((c) => ({ column: c, type: "text", old: b[c] ?? null, new: null, diff: { kind: "deleted", old: b[c] ?? null }, inferred: false, unknown: false }));
  const summary =
    op === "update"
      ? changed.length
        ? changed.map((c) => `${c}: ${b[c]} → ${a[c]}`).join("; ")
        : "no visible change"
      : op === "insert"
        ? "inserted: " + Object.entries(a).filter(([k]) => !key.some(([kk]) => kk === k)).slice(0, 3).map(([k, v]) => `${k}=${v}`).join(", ")
        : "deleted";
  return {
    summary: {
      id: i + 1,
      txn_row: tx + 1,
      source: i % 11 === 0 ? "app" : "demo",
      txid: String(7000 + tx),
      position: "0/" + (0x16b3748 + tx * 64).toString(16).toUpperCase(),
      committed_at: timeOf(i),
      context: { actor: ACTORS[tx % ACTORS.length]! },
      schema: t.schema,
      table: t.table,
      op,
      key,
      changed,
      summary,
    },
    before: op === "insert" ? null : Object.entries(b),
    after: op === "delete" ? null : Object.entries(a),
    changes,
  };
}

const makeEvent = (i: number) => makeFull(i).summary;

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

export function createMockTransport(total?: number): Transport {
  const param = typeof location !== "undefined" ? new URLSearchParams(location.search).get("mock") : null;
  let count = total ?? (param && /^\d+$/.test(param) ? Number(param) : 1_000_000);
  const listeners = new Set<(e: ApiEvent) => void>();
  const paused = new Set<string>();
  const src = (name: string, kind: string, target: string, extra: Partial<SourceInfo>): SourceInfo => ({
    name,
    kind,
    target,
    position: null,
    paused: false,
    state: "idle",
    message: null,
    warnings: [],
    events_stored: 0,
    events_per_sec: null,
    behind: null,
    task: null,
    slot: null,
    ...extra,
  });
  const sources: SourceInfo[] = [
    src("demo", "postgres", "postgres://ana@db.example.com:5432/shop", {
      state: "live",
      events_per_sec: 3.2,
      position: "0/16B3748",
      task: { task_id: 1, kind: "watch" },
      slot: {
        slot: "rowtrail_demo",
        own: { slot: "rowtrail_demo", active: true, wal_status: "reserved", retained_bytes: 1_200_000_000, lag_bytes: 24_576, confirmed_flush: "0/16B3748", lost: false, warn: true },
        others: [{ slot: "rowtrail_laptop2", active: false, wal_status: "extended", retained_bytes: 310_000_000, lag_bytes: 310_000_000, confirmed_flush: "0/1000000", lost: false, warn: false }],
        error: null,
        warn_threshold_bytes: 1_073_741_824,
        capture_problems: [
          "table public.ln is no longer in publication rowtrail_demo (altered outside Rowtrail): its changes are not captured. To capture them again: ALTER PUBLICATION \"rowtrail_demo\" ADD TABLE \"public\".\"ln\"",
        ],
      },
    }),
    src("app", "sqlite", "/home/ana/app.db", { state: "catching_up", events_per_sec: 850, behind: 5800, position: "4200", task: { task_id: 2, kind: "sync" } }),
    src("legacy", "postgres", "postgres://ops@10.0.0.12:5432/legacy", {
      state: "error",
      message: "cannot connect to 10.0.0.12:5432: connection refused. Is the server running and accepting TCP connections?",
    }),
  ];
  const filterCache = new Map<string, Int32Array>();

  function matches(e: EventSummary, f: EventFilter): boolean {
    if (f.source && e.source !== f.source) return false;
    if (f.table && e.table !== f.table && `${e.schema}.${e.table}` !== f.table) return false;
    if (f.op && e.op !== f.op) return false;
    if (f.since && e.committed_at < new Date(f.since).toISOString()) return false;
    if (f.until && e.committed_at >= new Date(f.until).toISOString()) return false;
    if (f.txid && e.txid !== f.txid) return false;
    if (f.context && !Object.values(e.context).some((v) => v.toLowerCase().includes(f.context!.toLowerCase()))) return false;
    if (f.column && !e.changed.includes(f.column)) return false;
    if (f.search) {
      const full = makeFull(e.id - 1);
      const s = f.search.toLowerCase();
      const vals = [...(full.before ?? []), ...(full.after ?? [])].map(([, v]) => v);
      if (!vals.some((v) => v !== null && v.toLowerCase().includes(s))) return false;
    }
    return true;
  }

  const isEmpty = (f: EventFilter | null | undefined) => !f || !Object.values(f).some((v) => v !== null && v !== undefined && v !== "");

  /** Matching event indexes (oldest first), or null for "all". */
  function indexes(f: EventFilter | null | undefined): Int32Array | null {
    if (isEmpty(f)) return null;
    const k = JSON.stringify(f) + "@" + count;
    let a = filterCache.get(k);
    if (!a) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) if (matches(makeEvent(i), f!)) out.push(i);
      a = Int32Array.from(out);
      filterCache.set(k, a);
    }
    return a;
  }
  const totalOf = (f: EventFilter | null | undefined) => indexes(f)?.length ?? count;
  const eventAt = (f: EventFilter | null | undefined, index: number) => {
    const ix = indexes(f);
    return makeEvent(ix ? ix[index]! : index);
  };
  /** Index of the first match with id ≥ `id`. */
  function lowerBound(f: EventFilter | null | undefined, id: number): number {
    const ix = indexes(f);
    if (!ix) return Math.max(0, Math.min(count, id - 1));
    let lo = 0;
    let hi = ix.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ix[mid]! + 1 < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  function page(f: EventFilter | null | undefined, start: number, limit: number): EventPage {
    const n = totalOf(f);
    const s = Math.max(0, Math.min(start, n));
    const events: EventSummary[] = [];
    for (let i = s; i < Math.min(n, s + limit); i++) events.push(eventAt(f, i));
    return { events, first_index: s, total: n, has_more_before: s > 0, has_more_after: s + events.length < n };
  }

  function history(source: string, table: string, key: Array<string | number> | Record<string, string | number>): RecordHistory {
    const t = TABLES.find((x) => x.table === table || `${x.schema}.${x.table}` === table) ?? TABLES[0]!;
    const k = String(Array.isArray(key) ? key[0] : Object.values(key)[0]);
    const fc = (column: string, type: string, old: string | null, nw: string | null, diff: FieldChangeInfo["diff"], inferred = false): FieldChangeInfo => ({
      column,
      type,
      old,
      new: nw,
      diff,
      inferred,
      unknown: false,
    });
    const notes1 = "Leave at the front desk";
    const notes2 = "Leave at the back door, ring twice";
    const meta1 = '{"tags":["fragile"],"dims":{"w":10,"h":4}}';
    const meta2 = '{"tags":["fragile","express"],"dims":{"w":12,"h":4}}';
    const spec: Array<[Op, FieldChangeInfo[]]> = [
      ["insert", [fc("id", "int8", null, k, { kind: "set", new: k }), fc("st", "text", null, "P", { kind: "set", new: "P" }), fc("carrier", "text", null, "DHL", { kind: "set", new: "DHL" }), fc("dest", "text", null, null, { kind: "unchanged" }), fc("notes", "text", null, notes1, { kind: "set", new: notes1 }), fc("meta", "jsonb", null, meta1, { kind: "set", new: meta1 })].filter((c) => c.diff.kind !== "unchanged")],
      ["update", [fc("st", "text", "P", "X", { kind: "replaced", old: "P", new: "X" }), fc("dest", "text", null, "Rotterdam", { kind: "set", new: "Rotterdam" })]],
      [
        "update",
        [
          fc("notes", "text", notes1, notes2, {
            kind: "text",
            spans: [
              { op: "equal", text: "Leave at the " },
              { op: "delete", text: "front desk" },
              { op: "insert", text: "back door, ring twice" },
            ],
          }),
          fc(
            "meta",
            "jsonb",
            meta1,
            meta2,
            {
              kind: "json",
              changes: [
                { path: "/tags/1", change: { kind: "added", new: "express" } },
                { path: "/dims/w", change: { kind: "changed", old: 10, new: 12 } },
              ],
            },
            true,
          ),
        ],
      ],
      [
        "update",
        [
          fc("carrier", "text", "DHL", XSS, { kind: "replaced", old: "DHL", new: XSS }),
          fc("dest", "text", "Rotterdam", null, { kind: "cleared", old: "Rotterdam" }),
          fc("notes", "text", notes2, "Line one\nLine two changed\nLine three\n", {
            kind: "lines",
            lines: [
              { op: "delete", text: notes2 + "\n" },
              { op: "insert", text: "Line one\n" },
              { op: "changed", spans: [{ op: "equal", text: "Line two " }, { op: "insert", text: "changed" }, { op: "equal", text: "\n" }] },
              { op: "insert", text: "Line three\n" },
            ],
          }),
        ],
      ],
      ["delete", []],
    ];
    const versions: VersionInfo[] = spec.map(([op, changes], n) => {
      const e = makeEvent(n * 37 + 5);
      return {
        number: n + 1,
        event: { ...e, source, schema: t.schema, table: t.table, op, key: [["id", k]], changed: op === "update" ? changes.map((c) => c.column) : [], summary: "" },
        changes,
        unchanged: op === "delete" ? 0 : t.cols.length - changes.length,
        inferred: changes.filter((c) => c.inferred).map((c) => c.column),
        unknown_old: [],
      };
    });
    return {
      source,
      schema: t.schema,
      table: t.table,
      qualified: `${t.schema}.${t.table}`,
      key: [["id", k]],
      key_columns: ["id"],
      columns: t.cols.map((c) => ({ name: c, type: c === "meta" ? "jsonb" : c === "id" ? "int8" : "text", key: c === "id" })),
      versions,
      gaps: [],
    };
  }

  setInterval(() => {
    if (paused.has("demo")) return;
    count += 1 + Math.floor(Math.random() * 3);
    filterCache.clear();
    for (const l of listeners) l({ type: "events_added", source: "demo", last_event_id: count });
  }, 4000);

  const emit = (e: ApiEvent) => {
    for (const l of listeners) l(e);
  };

  const handlers: Record<string, (a: any) => unknown> = {
    workspace_info: () => ({ data_dir: "/tmp/rowtrail", cache_path: "/tmp/rowtrail/cache.sqlite", event_count: count, transaction_count: Math.ceil(count / 2.5), source_count: sources.length, table_count: 3, schema_version: 1, version: "0.1.0" }),
    list_sources: () => ({
      sources: sources.map((s) => ({
        ...s,
        paused: paused.has(s.name),
        state: paused.has(s.name) ? "paused" : s.state,
        events_stored: s.name === "demo" ? Math.floor(count * 0.9) : s.name === "app" ? Math.floor(count * 0.1) : 0,
      })),
    }),
    list_tables: () => ({
      tables: TABLES.map((t) => ({
        source: "demo",
        schema: t.schema,
        table: t.table,
        qualified: `${t.schema}.${t.table}`,
        columns: t.cols.map((c) => ({ name: c, type: "text", key: c === "id" })),
        events: Math.floor(count / 3),
      })),
    }),
    count_events: (a: { filter?: EventFilter }) => ({ count: totalOf(a.filter), exact: true, last_event_id: count }),
    list_events: (a: { filter?: EventFilter; after_id?: number | null; before_id?: number | null; limit?: number | null }) => {
      const limit = a.limit ?? 100;
      if (a.before_id != null) {
        const end = lowerBound(a.filter, a.before_id);
        return page(a.filter, Math.max(0, end - limit), Math.min(limit, end));
      }
      const start = a.after_id != null ? lowerBound(a.filter, a.after_id + 1) : 0;
      return page(a.filter, start, limit);
    },
    events_at: (a: { filter?: EventFilter; index: number; limit?: number | null }) => page(a.filter, a.index, a.limit ?? 100),
    locate_time: (a: { filter?: EventFilter; at: string }) => {
      const at = new Date(a.at).toISOString();
      const n = totalOf(a.filter);
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (eventAt(a.filter, mid).committed_at < at) lo = mid + 1;
        else hi = mid;
      }
      const e = lo < n ? eventAt(a.filter, lo) : null;
      return { id: e?.id ?? null, index: lo, committed_at: e?.committed_at ?? null, total: n };
    },
    record_history: (a: { source: string; table: string; key: Array<string | number> }) => history(a.source, a.table, a.key),
    compare_versions: (a: { source: string; table: string; key: Array<string | number>; from: number; to: number }): Comparison => {
      const h = history(a.source, a.table, a.key);
      const seen = new Map<string, FieldChangeInfo>();
      for (const v of h.versions.slice(Math.min(a.from, a.to), Math.max(a.from, a.to))) for (const c of v.changes) seen.set(c.column, c);
      return {
        from: a.from,
        to: a.to,
        changes: [...seen.values()],
        unchanged: h.columns.filter((c) => !seen.has(c.name)).map((c) => ({ column: c.name, type: c.type, value: c.name === "id" ? String(a.key[0]) : "DHL" })),
      };
    },
    transaction: (a: { source?: string; txid?: string; txn_row?: number }): TransactionDetail => {
      const tx = a.txn_row ? a.txn_row - 1 : Number(a.txid) - 7000;
      const events: EventDetail[] = [];
      for (let i = Math.max(0, Math.floor(tx * 2.5) - 1); i < Math.min(count, Math.ceil((tx + 1) * 2.5) + 1); i++) {
        if (txnOf(i) !== tx) continue;
        const f = makeFull(i);
        events.push({ event: f.summary, before: f.before, after: f.after, unknown: [], inferred: [], unknown_old: [], changes: f.changes, unchanged: (f.after ?? f.before ?? []).length - f.changes.length });
      }
      if (!events.length) throw new ApiError("not_found", `no transaction ${JSON.stringify(a.txid)} of source ${JSON.stringify(a.source)} in the cache`);
      const counts = new Map<string, { schema: string; table: string; op: Op; count: number }>();
      for (const { event: e } of events) {
        const k = e.table + e.op;
        const c = counts.get(k) ?? { schema: e.schema, table: e.table, op: e.op, count: 0 };
        c.count++;
        counts.set(k, c);
      }
      const first = events[0]!.event;
      return {
        txn_row: first.txn_row,
        source: first.source,
        txid: first.txid,
        position: first.position,
        committed_at: first.committed_at,
        context: first.context,
        event_count: events.length,
        counts: [...counts.values()],
        events,
        truncated: false,
      };
    },
    export_events: (a: { format: string }) => ({ filename: "events." + (a.format === "json" ? "jsonl" : "csv"), content_type: "text/plain", text: "id,table\n1,shp\n", rows: 1, truncated: false }),
    export_history: (a: { format: string }) => ({ filename: "history." + (a.format === "json" ? "jsonl" : "csv"), content_type: "text/plain", text: "version,op\n1,insert\n", rows: 1, truncated: false }),
    test_connection: async (a: { url: string }) => {
      await sleep(600);
      const target = a.url.replace(/:[^:@/]*@/, "@");
      if (a.url.includes("bad"))
        return { target, reachable: false, error: `password authentication failed for user "ana": check the user name and password`, server_version: null, problems: [], tables: [], existing_slots: [] };
      const t = (name: string, ri: boolean, own = true) => ({
        schema: "public",
        name,
        qualified: "public." + name,
        replica_identity: ri ? "default" : "nothing",
        has_primary_key: ri,
        can_publish: own,
        has_replica_identity: ri,
        note: !own ? "owned by another role" : ri ? null : "no primary key and replica identity nothing",
      });
      return { target, reachable: true, error: null, server_version: "16.4", problems: [], tables: [t("shp", true), t("cust", true), t("audit_log", false), t("pg_stat_x", true, false)], existing_slots: [] };
    },
    plan_pg_source: async (a: { name: string; url: string; tables?: string[]; snapshot?: boolean }) => {
      await sleep(400);
      const slot = "rowtrail_" + a.name.toLowerCase().replace(/[^a-z0-9]/g, "_");
      const tables = a.tables ?? [];
      const full = tables.filter((t) => !t.includes("audit_log"));
      const ins = tables.filter((t) => t.includes("audit_log"));
      const ti = (t: string) => ({ schema: t.split(".")[0]!, name: t.split(".")[1]!, qualified: t, replica_identity: "default", has_primary_key: true, can_publish: true, has_replica_identity: true, note: null });
      const q = (t: string) => t.split(".").map((x) => `"${x}"`).join(".");
      return {
        name: a.name,
        url: a.url.replace(/:[^:@/]*@/, "@"),
        snapshot: !!a.snapshot,
        slot,
        publication: slot,
        insert_only_publication: ins.length ? slot + "_ins" : null,
        tables: full.map(ti),
        insert_only_tables: ins.map(ti),
        warnings: ins.map((t) => `${t} has no replica identity: only its inserts are captured (publishing its updates would make them fail on the server)`),
        statements: [
          `CREATE PUBLICATION "${slot}" FOR TABLE ${full.map(q).join(", ")}`,
          ...(ins.length ? [`CREATE PUBLICATION "${slot}_ins" FOR TABLE ${ins.map(q).join(", ")} WITH (publish = 'insert')`] : []),
          `CREATE_REPLICATION_SLOT "${slot}" LOGICAL pgoutput`,
        ],
      };
    },
    create_pg_source: async (a: { name: string; url: string }) => {
      await sleep(900);
      const s = src(a.name, "postgres", a.url, { state: "catching_up" });
      sources.push(s);
      emit({ type: "sources_changed" });
      return { source: s, task: null, tables: [], warnings: [] };
    },
    add_sqlite_source: async (a: { name: string; path: string }) => {
      await sleep(500);
      if (!a.path.endsWith(".db") && !a.path.endsWith(".sqlite")) throw new ApiError("bad_request", `cannot open ${a.path}: not a SQLite database file`);
      const s = src(a.name, "sqlite", a.path, {});
      sources.push(s);
      emit({ type: "sources_changed" });
      return { source: s, task: null, tables: [], warnings: ["table notes has no primary key: its rows are keyed by rowid"] };
    },
    pause_source: (a: { name: string }) => {
      paused.add(a.name);
      emit({ type: "source_state", source: a.name, state: "paused", message: null });
      return sources.find((s) => s.name === a.name);
    },
    resume_source: (a: { name: string }) => {
      paused.delete(a.name);
      emit({ type: "source_state", source: a.name, state: "live", message: null });
      return sources.find((s) => s.name === a.name);
    },
    remove_source: async (a: { name: string }) => {
      await sleep(500);
      const i = sources.findIndex((s) => s.name === a.name);
      if (i >= 0) sources.splice(i, 1);
      emit({ type: "sources_changed" });
      return { name: a.name, dropped_upstream: true };
    },
    watch_source: (a: { name: string }) => {
      const s = sources.find((x) => x.name === a.name);
      if (s) s.state = "live";
      emit({ type: "source_state", source: a.name, state: "connecting", message: null });
      return { task_id: 9, source: a.name, kind: "watch", started: true };
    },
  };

  return {
    kind: "mock",
    async call(command, args) {
      const h = handlers[command];
      await sleep(20 + Math.random() * 40);
      if (!h) throw new ApiError("bad_request", `the mock backend has no command ${command}`);
      try {
        return await h(args);
      } catch (e) {
        throw ApiError.from(e);
      }
    },
    connect(onEvent, onState) {
      listeners.add(onEvent);
      onState("open");
      return () => listeners.delete(onEvent);
    },
  };
}
