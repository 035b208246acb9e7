// Development-only in-memory backend (`npm run dev`, then open `/?mock` or `/?mock=1000000`).
// Never part of the production bundle: `transport/index.ts` imports it only when
// `import.meta.env.DEV`. Events are generated from their index, so a million of them cost
// nothing until a page is asked for.
import type {
  ApiEvent,
  EventFilter,
  EventJson,
  FieldChange,
  HistoryJson,
  Op,
  SourceInfo,
  TransactionJson,
  VersionJson,
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

function tableOf(i: number) {
  return TABLES[i % 7 === 3 ? 1 : i % 5 === 2 ? 2 : 0]!;
}

function txnOf(i: number): number {
  // Transactions of 1–3 events.
  return Math.floor(i / 2.5);
}

function makeEvent(i: number): EventJson {
  const t = tableOf(i);
  const op = OPS[(i * 31) % OPS.length]!;
  const tx = txnOf(i);
  const keyVal = String(1000 + ((i * 7919) % 5000));
  const key: Record<string, string> = t.table === "ln" ? { shp_id: keyVal, ln_no: String((i % 4) + 1) } : { id: keyVal };
  const st = ["P", "X", "D", "S"];
  const before: Record<string, string | null> = { ...key };
  const after: Record<string, string | null> = { ...key };
  let changed: string[] = [];
  if (t.table === "shp") {
    before.st = st[i % 4]!;
    after.st = st[(i + 1) % 4]!;
    before.carrier = "DHL";
    after.carrier = i % 9 === 0 ? "UPS" : "DHL";
    before.dest = "Rotterdam";
    after.dest = "Rotterdam";
    before.notes = i === 3 ? '<img src=x onerror="alert(1)">' : "Leave at the front desk";
    after.notes = before.notes;
    changed = ["st", ...(i % 9 === 0 ? ["carrier"] : [])];
  } else if (t.table === "cust") {
    before.name = "Customer " + keyVal;
    after.name = before.name;
    before.tier = "silver";
    after.tier = i % 2 ? "gold" : "silver";
    before.email = "c" + keyVal + "@example.com";
    after.email = before.email;
    changed = i % 2 ? ["tier"] : [];
  } else {
    before.sku = "SKU-" + (i % 97);
    after.sku = before.sku;
    before.qty = String(i % 10);
    after.qty = String((i % 10) + 1);
    changed = ["qty"];
  }
  return {
    id: i + 1,
    source: i % 11 === 0 ? "app" : "demo",
    txid: String(7000 + tx),
    position: "0/" + (0x16b3748 + tx * 64).toString(16).toUpperCase(),
    committed_at: new Date(BASE + tx * 3000).toISOString(),
    context: { actor: ACTORS[tx % ACTORS.length]! },
    schema: t.schema,
    table: t.table,
    op,
    key,
    before: op === "insert" ? null : before,
    after: op === "delete" ? null : after,
    inferred: i % 13 === 0 && op === "update" ? ["notes"] : [],
    changed: op === "update" ? changed : Object.keys(op === "insert" ? after : before),
  };
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

export function createMockTransport(total?: number): Transport {
  const param = typeof location !== "undefined" ? new URLSearchParams(location.search).get("mock") : null;
  let count = total ?? (param && /^\d+$/.test(param) ? Number(param) : 1_000_000);
  const listeners = new Set<(e: ApiEvent) => void>();
  const paused = new Set<string>();
  const sources: SourceInfo[] = [
    {
      name: "demo",
      kind: "postgres",
      target: "postgres://ana@db.example.com:5432/shop",
      state: { state: "live" },
      events: 0,
      events_per_sec: 3.2,
      last_event_at: null,
      slots: [
        { slot: "rowtrail_demo", active: true, wal_status: "reserved", retained_bytes: 1_200_000_000, lag_bytes: 24_576, confirmed_flush: "0/16B3748" },
      ],
      warn_retained_bytes: 1_073_741_824,
    },
    {
      name: "app",
      kind: "sqlite",
      target: "/home/ana/app.db",
      state: { state: "catching_up", done: 4200, total: 10000 },
      events: 0,
      events_per_sec: 850,
      last_event_at: null,
      slots: [],
      warn_retained_bytes: null,
    },
    {
      name: "legacy",
      kind: "postgres",
      target: "postgres://ops@10.0.0.12:5432/legacy",
      state: { state: "error", message: "connection refused (is the server running on 10.0.0.12:5432?)" },
      events: 0,
      events_per_sec: null,
      last_event_at: null,
      slots: [],
      warn_retained_bytes: null,
    },
  ];
  const filterCache = new Map<string, Int32Array>();

  function matches(e: EventJson, f: EventFilter): boolean {
    if (f.source && e.source !== f.source) return false;
    if (f.table && e.table !== f.table && `${e.schema}.${e.table}` !== f.table) return false;
    if (f.op && e.op !== f.op) return false;
    if (f.since && e.committed_at < new Date(f.since).toISOString()) return false;
    if (f.until && e.committed_at >= new Date(f.until).toISOString()) return false;
    if (f.txid && e.txid !== f.txid) return false;
    if (f.actor && !JSON.stringify(e.context).toLowerCase().includes(f.actor.toLowerCase())) return false;
    if (f.column && !(e.changed ?? []).includes(f.column)) return false;
    if (f.search) {
      const s = f.search.toLowerCase();
      const vals = [...Object.values(e.before ?? {}), ...Object.values(e.after ?? {})];
      if (!vals.some((v) => v !== null && v.toLowerCase().includes(s))) return false;
    }
    return true;
  }

  function isEmpty(f: EventFilter) {
    return !Object.values(f).some((v) => v !== null && v !== undefined && v !== "");
  }

  /** Event indexes (oldest first) matching a filter. */
  function indexes(f: EventFilter, n: number): Int32Array | null {
    if (isEmpty(f)) return null;
    const k = JSON.stringify(f) + "@" + n;
    let a = filterCache.get(k);
    if (!a) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) if (matches(makeEvent(i), f)) out.push(i);
      a = Int32Array.from(out);
      filterCache.set(k, a);
    }
    return a;
  }

  function countOf(f: EventFilter, total: number) {
    const ix = indexes(f, total);
    return ix ? ix.length : total;
  }

  function eventAtRow(f: EventFilter, row: number, newestFirst: boolean, total: number): EventJson | null {
    const ix = indexes(f, total);
    const n = ix ? ix.length : total;
    if (row < 0 || row >= n) return null;
    const r = newestFirst ? n - 1 - row : row;
    return makeEvent(ix ? ix[r]! : r);
  }

  function rowOfId(f: EventFilter, id: number, newestFirst: boolean, total: number): number {
    const ix = indexes(f, total);
    const i = id - 1;
    let pos: number;
    if (!ix) pos = i;
    else {
      let lo = 0;
      let hi = ix.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ix[mid]! < i) lo = mid + 1;
        else hi = mid;
      }
      pos = lo;
    }
    const n = ix ? ix.length : total;
    return newestFirst ? n - 1 - pos : pos;
  }

  function history(source: string, table: string, key: string[]): HistoryJson {
    const t = TABLES.find((x) => x.table === table || `${x.schema}.${x.table}` === table) ?? TABLES[0]!;
    const k = key[0] ?? "1000";
    const ev = (n: number, op: Op, changes: FieldChange[], after: Record<string, string | null> | null): VersionJson => {
      const e = makeEvent(n * 37);
      return {
        number: 0,
        event: { ...e, source, schema: t.schema, table: t.table, op, key: { id: k }, before: null, after, inferred: changes.filter((c) => c.inferred).map((c) => c.column) },
        changes,
        unchanged: after ? Object.keys(after).length - changes.length : 0,
      };
    };
    const fc = (column: string, type: string, old: string | null, nw: string | null, diff: FieldChange["diff"], inferred = false): FieldChange => ({
      column,
      type,
      old,
      new: nw,
      diff,
      inferred,
    });
    const notes1 = "Leave at the front desk";
    const notes2 = "Leave at the back door, ring twice";
    const meta1 = '{"tags":["fragile"],"dims":{"w":10,"h":4}}';
    const meta2 = '{"tags":["fragile","express"],"dims":{"w":12,"h":4}}';
    const v: VersionJson[] = [
      ev(1, "insert", [fc("id", "int8", null, k, { kind: "set", new: k }), fc("st", "text", null, "P", { kind: "set", new: "P" }), fc("carrier", "text", null, "DHL", { kind: "set", new: "DHL" }), fc("notes", "text", null, notes1, { kind: "set", new: notes1 }), fc("meta", "jsonb", null, meta1, { kind: "set", new: meta1 })], { id: k, st: "P", carrier: "DHL", dest: null, notes: notes1, meta: meta1 }),
      ev(2, "update", [fc("st", "text", "P", "X", { kind: "replaced", old: "P", new: "X" }), fc("dest", "text", null, "Rotterdam", { kind: "set", new: "Rotterdam" })], { id: k, st: "X", carrier: "DHL", dest: "Rotterdam", notes: notes1, meta: meta1 }),
      ev(3, "update", [
        fc("notes", "text", notes1, notes2, {
          kind: "text",
          spans: [
            { op: "equal", text: "Leave at the " },
            { op: "delete", text: "front desk" },
            { op: "insert", text: "back door, ring twice" },
          ],
        }),
        fc("meta", "jsonb", meta1, meta2, {
          kind: "json",
          changes: [
            { path: "/tags/1", change: { kind: "added", new: "express" } },
            { path: "/dims/w", change: { kind: "changed", old: 10, new: 12 } },
          ],
        }, true),
      ], { id: k, st: "X", carrier: "DHL", dest: "Rotterdam", notes: notes2, meta: meta2 }),
      ev(4, "update", [
        fc("carrier", "text", "DHL", '<img src=x onerror="alert(1)">', { kind: "replaced", old: "DHL", new: '<img src=x onerror="alert(1)">' }),
        fc("notes", "text", notes2, "Line one\nLine two changed\nLine three\n", {
          kind: "lines",
          lines: [
            { op: "delete", text: notes2 + "\n" },
            { op: "insert", text: "Line one\n" },
            { op: "changed", spans: [{ op: "equal", text: "Line two " }, { op: "insert", text: "changed" }, { op: "equal", text: "\n" }] },
            { op: "insert", text: "Line three\n" },
          ],
        }),
        fc("dest", "text", "Rotterdam", null, { kind: "cleared", old: "Rotterdam" }),
      ], { id: k, st: "X", carrier: '<img src=x onerror="alert(1)">', dest: null, notes: "Line one\nLine two changed\nLine three\n", meta: meta2 }),
      ev(5, "delete", [], null),
    ];
    v.forEach((x, i) => (x.number = i + 1));
    return {
      table: { id: 1, source, schema: t.schema, table: t.table },
      key: [["id", k]],
      columns: t.cols.map((c) => ({ name: c, type: c === "meta" ? "jsonb" : c === "id" ? "int8" : "text", key: c === "id" })),
      versions: v,
    };
  }

  const timer = setInterval(() => {
    if (paused.has("demo")) return;
    const added = 1 + Math.floor(Math.random() * 3);
    count += added;
    filterCache.clear();
    for (const l of listeners) l({ type: "events_added", source: "demo", count: added, last_id: count });
  }, 4000);
  void timer;

  const handlers: Record<string, (a: any) => unknown> = {
    list_sources: () => ({
      sources: sources.map((s) => ({
        ...s,
        state: paused.has(s.name) ? { state: "paused" } : s.state,
        events: s.name === "demo" ? Math.floor(count * 0.9) : s.name === "app" ? Math.floor(count * 0.1) : 0,
        last_event_at: s.name === "legacy" ? null : makeEvent(count - 1).committed_at,
      })),
    }),
    list_tables: () => ({
      tables: TABLES.map((t, i) => ({ id: i + 1, source: "demo", schema: t.schema, table: t.table })),
    }),
    table_columns: (a: { table: string }) => {
      const t = TABLES.find((x) => x.table === a.table || `${x.schema}.${x.table}` === a.table);
      return { columns: (t?.cols ?? []).map((c) => ({ name: c, type: "text", key: c === "id" })) };
    },
    count_events: (a: { filter: EventFilter; max_id?: number | null }) => {
      const total = Math.min(count, a.max_id ?? count);
      return { count: countOf(a.filter, total), max_id: total || null };
    },
    list_events: (a: { filter: EventFilter; newest_first: boolean; after_id?: number | null; offset?: number | null; max_id?: number | null; limit: number }) => {
      const total = Math.min(count, a.max_id ?? count);
      let start = a.offset ?? 0;
      if (a.after_id != null) start = rowOfId(a.filter, a.after_id, a.newest_first, total) + 1;
      const events: EventJson[] = [];
      for (let r = start; r < start + a.limit; r++) {
        const e = eventAtRow(a.filter, r, a.newest_first, total);
        if (!e) break;
        events.push(e);
      }
      return { events, has_more: start + events.length < countOf(a.filter, total) };
    },
    record_history: (a: { source: string; table: string; key: string[] }) => history(a.source, a.table, a.key),
    compare_versions: (a: { source: string; table: string; key: string[]; from: number; to: number }) => {
      const h = history(a.source, a.table, a.key);
      const changes = h.versions.slice(Math.min(a.from, a.to), Math.max(a.from, a.to)).flatMap((v) => v.changes);
      const seen = new Map<string, FieldChange>();
      for (const c of changes) seen.set(c.column, c);
      return { from: a.from, to: a.to, changes: [...seen.values()], unchanged: 2 };
    },
    transaction: (a: { source: string; txid: string }): TransactionJson => {
      const tx = Number(a.txid) - 7000;
      const events: EventJson[] = [];
      for (let i = Math.floor(tx * 2.5); i < Math.min(count, Math.ceil((tx + 1) * 2.5) + 1); i++) {
        if (txnOf(i) === tx) events.push(makeEvent(i));
      }
      if (!events.length) throw new ApiError("not_found", `no transaction ${a.txid} in source ${a.source}`);
      const counts = new Map<string, { schema: string; table: string; op: Op; count: number }>();
      for (const e of events) {
        const k = e.table + e.op;
        const c = counts.get(k) ?? { schema: e.schema, table: e.table, op: e.op, count: 0 };
        c.count++;
        counts.set(k, c);
      }
      const first = events[0]!;
      return { source: a.source, txid: a.txid, position: first.position, committed_at: first.committed_at, context: first.context, events, counts: [...counts.values()] };
    },
    export_events: (a: { format: string }) => ({ filename: "changes." + a.format, content_type: "text/plain", text: "id,table\n1,shp\n" }),
    export_history: (a: { format: string }) => ({ filename: "history." + a.format, content_type: "text/plain", text: "version,op\n1,insert\n" }),
    test_pg_connection: async (a: { url: string }) => {
      await sleep(600);
      if (a.url.includes("bad")) throw new ApiError("connect", `cannot connect to ${a.url}: password authentication failed for user "ana". Check the user name and password.`);
      return {
        server_version: "16.4",
        problems: [],
        tables: [
          { schema: "public", name: "shp", replica_identity: "default", has_primary_key: true, publishable: true, note: null },
          { schema: "public", name: "cust", replica_identity: "default", has_primary_key: true, publishable: true, note: null },
          { schema: "public", name: "audit_log", replica_identity: "default", has_primary_key: false, publishable: false, note: "no primary key: inserts only" },
        ],
      };
    },
    plan_pg_source: async (a: { name: string; url: string; tables: string[]; snapshot: boolean }) => {
      await sleep(400);
      const slot = "rowtrail_" + a.name.toLowerCase().replace(/[^a-z0-9]/g, "_");
      const full = a.tables.filter((t) => !t.includes("audit_log"));
      const ins = a.tables.filter((t) => t.includes("audit_log"));
      const ti = (t: string) => ({ schema: t.split(".")[0]!, name: t.split(".")[1]!, replica_identity: "default", has_primary_key: true, publishable: true, note: null });
      return {
        name: a.name,
        url: a.url,
        snapshot: a.snapshot,
        plan: {
          slot,
          publication: slot,
          insert_only_publication: ins.length ? slot + "_ins" : null,
          tables: full.map(ti),
          insert_only_tables: ins.map(ti),
          warnings: ins.map((t) => `${t} has no replica identity: only its inserts are captured`),
          statements: [
            `CREATE PUBLICATION "${slot}" FOR TABLE ${full.map((t) => t.split(".").map((x) => `"${x}"`).join(".")).join(", ")}`,
            ...(ins.length ? [`CREATE PUBLICATION "${slot}_ins" FOR TABLE ${ins.join(", ")} WITH (publish = 'insert')`] : []),
            `SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput')`,
          ],
        },
      };
    },
    create_pg_source: async (a: { name: string; url: string }) => {
      await sleep(900);
      const s: SourceInfo = { name: a.name, kind: "postgres", target: a.url, state: { state: "catching_up", done: 0, total: null }, events: 0, events_per_sec: null, last_event_at: null, slots: [], warn_retained_bytes: null };
      sources.push(s);
      return { source: s };
    },
    add_sqlite_source: async (a: { name: string; path: string }) => {
      await sleep(500);
      if (!a.path.endsWith(".db") && !a.path.endsWith(".sqlite")) throw new ApiError("config", `cannot open ${a.path}: not a SQLite database file`);
      const s: SourceInfo = { name: a.name, kind: "sqlite", target: a.path, state: { state: "idle" }, events: 0, events_per_sec: null, last_event_at: null, slots: [], warn_retained_bytes: null };
      sources.push(s);
      return { source: s };
    },
    pause_source: (a: { name: string }) => {
      paused.add(a.name);
      for (const l of listeners) l({ type: "source_state", source: a.name, state: { state: "paused" } });
      return {};
    },
    resume_source: (a: { name: string }) => {
      paused.delete(a.name);
      for (const l of listeners) l({ type: "source_state", source: a.name, state: { state: "live" } });
      return {};
    },
    remove_source: async (a: { name: string }) => {
      await sleep(500);
      const i = sources.findIndex((s) => s.name === a.name);
      if (i >= 0) sources.splice(i, 1);
      return {};
    },
  };

  return {
    kind: "mock",
    async call(command, args) {
      const h = handlers[command];
      await sleep(30 + Math.random() * 60);
      if (!h) throw new ApiError("unknown_command", `the mock backend has no command ${command}`);
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
