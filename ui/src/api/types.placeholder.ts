// PLACEHOLDER — hand-written guess of the API types until the generated `types.ts` lands
// (the backend generates it from the Rust types). Delete this file then; nothing but
// `src/api/index.ts` imports it.
//
// Shapes follow the core crate: `diff::ValueDiff` (tag "kind"), `history::FieldChange`,
// the scripting-contract event JSON (`cache::query::EventRow::to_json`), `sync::PgPlan`,
// `catalog::SlotStatus`.

export type Op = "insert" | "update" | "delete" | "truncate";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type SpanOp = "equal" | "delete" | "insert";
export interface Span {
  op: SpanOp;
  text: string;
}

export type LineChange =
  | { op: "equal"; text: string }
  | { op: "delete"; text: string }
  | { op: "insert"; text: string }
  | { op: "changed"; spans: Span[] };

export type JsonChangeKind =
  | { kind: "added"; new: JsonValue }
  | { kind: "removed"; old: JsonValue }
  | { kind: "changed"; old: JsonValue; new: JsonValue }
  | { kind: "moved"; from: number; to: number };

export interface JsonChange {
  path: string;
  change: JsonChangeKind;
}

export type ValueDiff =
  | { kind: "unchanged" }
  | { kind: "set"; new: string }
  | { kind: "cleared"; old: string }
  | { kind: "replaced"; old: string; new: string }
  | { kind: "text"; spans: Span[] }
  | { kind: "lines"; lines: LineChange[] }
  | { kind: "json"; changes: JsonChange[] };

export interface FieldChange {
  column: string;
  type: string;
  old: string | null;
  new: string | null;
  diff: ValueDiff;
  inferred: boolean;
}

/** The scripting-contract event (see DESIGN.md), plus the names of changed columns. */
export interface EventJson {
  id: number;
  source: string;
  txid: string;
  position: string;
  committed_at: string;
  context: Record<string, JsonValue>;
  schema: string;
  table: string;
  op: Op;
  key: Record<string, string | null>;
  before: Record<string, string | null> | null;
  after: Record<string, string | null> | null;
  inferred: string[];
  unknown?: string[];
  /** Columns whose value differs between before and after. */
  changed?: string[];
}

export interface EventFilter {
  source?: string | null;
  /** `table` or `schema.table`. */
  table?: string | null;
  op?: Op | null;
  /** RFC 3339. */
  since?: string | null;
  until?: string | null;
  txid?: string | null;
  /** Substring of any context value (actor, reason, endpoint). */
  actor?: string | null;
  /** Only events that changed this column. */
  column?: string | null;
  /** Value search (at least 3 characters). */
  search?: string | null;
}

export interface ListEventsArgs {
  filter: EventFilter;
  /** Newest first (default) or oldest first. */
  newest_first: boolean;
  /** Keyset cursor: continue after this event id in the list's order. */
  after_id?: number | null;
  /** For a jump to an arbitrary row when no neighbouring page is loaded. */
  offset?: number | null;
  /** Snapshot bound: ignore events with a larger id (so offsets stay stable while new ones arrive). */
  max_id?: number | null;
  limit: number;
}

export interface EventPage {
  events: EventJson[];
  has_more: boolean;
}

export interface TableRef {
  id: number;
  source: string;
  schema: string;
  table: string;
}

export interface ColumnDef {
  name: string;
  type: string;
  key: boolean;
}

export type SourceState =
  | { state: "live" }
  | { state: "catching_up"; done?: number | null; total?: number | null }
  | { state: "idle" }
  | { state: "paused" }
  | { state: "error"; message: string };

export interface SlotStatus {
  slot: string;
  active: boolean;
  wal_status: string | null;
  retained_bytes: number | null;
  lag_bytes: number | null;
  confirmed_flush: string | null;
}

export interface SourceInfo {
  name: string;
  kind: string;
  /** Redacted URL or file path. */
  target: string;
  state: SourceState;
  events: number;
  events_per_sec: number | null;
  last_event_at: string | null;
  slots: SlotStatus[];
  /** Retained WAL above which the UI warns (bytes). */
  warn_retained_bytes: number | null;
}

export interface PgTableInfo {
  schema: string;
  name: string;
  /** `default`, `full`, `index`, `nothing`. */
  replica_identity: string;
  has_primary_key: boolean;
  /** Updates and deletes can be captured. */
  publishable: boolean;
  note: string | null;
}

export interface Prereq {
  problem: string;
  fix: string;
}

export interface PgConnectionTest {
  server_version: string;
  tables: PgTableInfo[];
  problems: Prereq[];
}

export interface SetupPlan {
  slot: string;
  publication: string;
  insert_only_publication: string | null;
  tables: PgTableInfo[];
  insert_only_tables: PgTableInfo[];
  warnings: string[];
  statements: string[];
}

export interface PgPlan {
  name: string;
  url: string;
  plan: SetupPlan;
  snapshot: boolean;
}

export interface PgSourceArgs {
  name: string;
  url: string;
  password?: string | null;
  tables: string[];
  snapshot: boolean;
}

export interface VersionJson {
  number: number;
  event: EventJson;
  changes: FieldChange[];
  unchanged: number;
}

export interface RecordRef {
  source: string;
  /** `schema.table` */
  table: string;
  /** Key values in key-column order. */
  key: string[];
}

export interface HistoryJson {
  table: TableRef;
  key: [string, string][];
  columns: ColumnDef[];
  versions: VersionJson[];
}

export interface Comparison {
  from: number;
  to: number;
  changes: FieldChange[];
  unchanged: number;
}

export interface TxnCount {
  schema: string;
  table: string;
  op: Op;
  count: number;
}

export interface TransactionJson {
  source: string;
  txid: string;
  position: string;
  committed_at: string;
  context: Record<string, JsonValue>;
  events: EventJson[];
  counts: TxnCount[];
}

export type ExportFormat = "csv" | "json";

export interface ExportText {
  filename: string;
  content_type: string;
  text: string;
}

export interface Empty {}

/** Every command: its request and response types. */
export interface Commands {
  list_sources: { args: Empty; result: { sources: SourceInfo[] } };
  list_tables: { args: Empty; result: { tables: TableRef[] } };
  table_columns: { args: { source: string; table: string }; result: { columns: ColumnDef[] } };
  /** The number of events matching, and the newest id (the snapshot bound for list_events). */
  count_events: { args: { filter: EventFilter; max_id?: number | null }; result: { count: number; max_id: number | null } };
  list_events: { args: ListEventsArgs; result: EventPage };
  record_history: { args: RecordRef; result: HistoryJson };
  compare_versions: { args: RecordRef & { from: number; to: number }; result: Comparison };
  transaction: { args: { source: string; txid: string }; result: TransactionJson };
  export_events: { args: { filter: EventFilter; format: ExportFormat }; result: ExportText };
  export_history: { args: RecordRef & { format: ExportFormat }; result: ExportText };
  test_pg_connection: { args: { url: string; password?: string | null }; result: PgConnectionTest };
  plan_pg_source: { args: PgSourceArgs; result: PgPlan };
  create_pg_source: { args: PgSourceArgs; result: { source: SourceInfo } };
  add_sqlite_source: { args: { name: string; path: string }; result: { source: SourceInfo } };
  pause_source: { args: { name: string }; result: Empty };
  resume_source: { args: { name: string }; result: Empty };
  remove_source: { args: { name: string; drop_upstream: boolean }; result: Empty };
}

/** Pushed by the backend (Tauri channel / server-sent events). */
export type ApiEvent =
  | { type: "events_added"; source: string; count: number; last_id: number }
  | { type: "source_state"; source: string; state: SourceState }
  | { type: "progress"; task: string; source: string | null; done: number; total: number | null; message: string | null };
