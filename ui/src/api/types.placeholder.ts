// PLACEHOLDER — hand-written copy of the API types until the generated `types.ts` lands (the
// backend generates it from the Rust types in src-tauri/core/src/api/). Delete this file then;
// nothing but `src/api/index.ts` imports it.
//
// Mirrors the Rust structs as they stood (events.rs, records.rs, tasks.rs, export.rs; the
// sources module was not written yet, so its shapes are guesses). 64-bit integers are `number`.

export type Op = "insert" | "update" | "delete" | "truncate";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// ---- diff.rs ----

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

// ---- api/mod.rs ----

export type ErrorCode = "bad_request" | "not_found" | "conflict" | "source_error" | "events_lost" | "internal";

export interface ApiErrorBody {
  code: ErrorCode;
  message: string;
}

export type Empty = Record<string, never>;

export type ApiError = ApiErrorBody;

// ---- api/events.rs ----

export interface EventFilter {
  source?: string | null;
  /** `name` or `schema.name`. */
  table?: string | null;
  op?: Op | null;
  /** `2026-11-02`, `2026-11-02 09:14` (UTC) or RFC 3339. */
  since?: string | null;
  until?: string | null;
  txid?: string | null;
  /** Text in any transaction context value (actor, reason, endpoint). */
  context?: string | null;
  /** Only updates that changed this column. */
  column?: string | null;
  /** Value search, at least 3 characters. */
  search?: string | null;
}

export interface EventSummary {
  id: number;
  /** Rows with the same value belong to one transaction. */
  txn_row: number;
  source: string;
  txid: string;
  position: string;
  committed_at: string;
  context: Record<string, string>;
  schema: string;
  table: string;
  op: Op;
  /** `[column, value]` in key order. */
  key: Array<[string, string | null]>;
  /** Columns an update changed (empty for other operations). */
  changed: string[];
  /** One-line plain-text summary. */
  summary: string;
}

export interface ListEventsRequest {
  filter?: EventFilter | null;
  after_id?: number | null;
  before_id?: number | null;
  limit?: number | null;
}

export interface EventPage {
  /** Oldest first. */
  events: EventSummary[];
  /** Index of the first event in the filtered list (0-based, oldest first). */
  first_index: number;
  total: number;
  has_more_before: boolean;
  has_more_after: boolean;
}

export interface CountEventsRequest {
  filter?: EventFilter | null;
  budget_ms?: number | null;
}

export interface EventCount {
  count: number;
  exact: boolean;
  last_event_id: number;
}

export interface EventsAtRequest {
  filter?: EventFilter | null;
  index: number;
  limit?: number | null;
}

export interface LocateTimeRequest {
  filter?: EventFilter | null;
  at: string;
}

export interface Located {
  id: number | null;
  index: number;
  committed_at: string | null;
  total: number;
}

export interface ListTablesRequest {
  source?: string | null;
}

export interface ColumnInfo {
  name: string;
  type: string;
  key: boolean;
}

export interface CapturedTable {
  source: string;
  schema: string;
  table: string;
  qualified: string;
  columns: ColumnInfo[];
  events: number;
}

export interface TableList {
  tables: CapturedTable[];
}

export interface TransactionRequest {
  source?: string | null;
  txid?: string | null;
  txn_row?: number | null;
  limit?: number | null;
}

export interface TxnCount {
  schema: string;
  table: string;
  op: Op;
  count: number;
}

export interface FieldChangeInfo {
  column: string;
  type: string;
  old: string | null;
  new: string | null;
  diff: ValueDiff;
  inferred: boolean;
}

export interface EventDetail {
  event: EventSummary;
  before: Array<[string, string | null]> | null;
  after: Array<[string, string | null]> | null;
  unknown: string[];
  inferred: string[];
  changes: FieldChangeInfo[];
  unchanged: number;
}

export interface TransactionDetail {
  txn_row: number;
  source: string;
  txid: string;
  position: string;
  committed_at: string;
  context: Record<string, string>;
  event_count: number;
  counts: TxnCount[];
  events: EventDetail[];
  truncated: boolean;
}

export type ExportFormat = "csv" | "json";

export interface ExportText {
  filename: string;
  content_type: string;
  text: string;
  rows: number;
  truncated: boolean;
}

export interface ExportEventsRequest {
  filter?: EventFilter | null;
  format: ExportFormat;
}

// ---- api/records.rs ----

export type RecordKey = Array<string | number> | Record<string, string | number>;

export interface RecordRequest {
  source?: string | null;
  table: string;
  key: RecordKey;
}

export interface VersionInfo {
  number: number;
  event: EventSummary;
  changes: FieldChangeInfo[];
  unchanged: number;
  inferred: string[];
}

export interface RecordHistory {
  source: string;
  schema: string;
  table: string;
  qualified: string;
  key: Array<[string, string]>;
  key_columns: string[];
  columns: ColumnInfo[];
  versions: VersionInfo[];
}

export interface CompareRequest {
  source?: string | null;
  table: string;
  key: RecordKey;
  from: number;
  to: number;
}

export interface UnchangedField {
  column: string;
  type: string;
  value: string | null;
}

export interface Comparison {
  from: number;
  to: number;
  changes: FieldChangeInfo[];
  unchanged: UnchangedField[];
}

export interface ExportHistoryRequest {
  source?: string | null;
  table: string;
  key: RecordKey;
  format: ExportFormat;
}

// ---- api/tasks.rs ----

export type LiveState = "idle" | "connecting" | "catching_up" | "live" | "reconnecting" | "error" | "paused";
export type TaskKind = "sync" | "watch";

export type ServerEvent =
  | {
      type: "progress";
      task_id: number;
      source: string;
      state: LiveState;
      events: number;
      transactions: number;
      position: string;
      behind: number | null;
      events_per_sec: number;
      message: string | null;
    }
  | { type: "events_added"; source: string; last_event_id: number }
  | { type: "source_state"; source: string; state: LiveState; message: string | null }
  | { type: "task_finished"; task_id: number; source: string; kind: TaskKind; error: ApiErrorBody | null }
  | { type: "sources_changed" }
  | { type: "lagged"; missed: number };

export interface TaskStarted {
  task_id: number;
  source: string;
  kind: TaskKind;
  started: boolean;
}

export interface TaskRef {
  task_id: number;
  kind: TaskKind;
}

// ---- api/sources.rs ----

export interface WorkspaceInfo {
  data_dir: string;
  cache_path: string;
  event_count: number;
  transaction_count: number;
  source_count: number;
  table_count: number;
  schema_version: number;
  version: string;
}

export interface ListSourcesRequest {
  /** Ask PostgreSQL servers for their slots (slower). */
  slots?: boolean | null;
  warn_retained_mib?: number | null;
}

export interface SlotInfo {
  slot: string;
  active: boolean;
  wal_status: string | null;
  retained_bytes: number | null;
  lag_bytes: number | null;
  confirmed_flush: string | null;
  lost: boolean;
  warn: boolean;
}

export interface SlotHealth {
  slot: string;
  own: SlotInfo | null;
  others: SlotInfo[];
  error: string | null;
  warn_threshold_bytes: number;
}

export interface SourceInfo {
  name: string;
  kind: string;
  target: string;
  position: string | null;
  paused: boolean;
  state: LiveState;
  message: string | null;
  events_stored: number;
  events_per_sec: number | null;
  behind: number | null;
  task: TaskRef | null;
  slot: SlotHealth | null;
}

export interface SourceList {
  sources: SourceInfo[];
}

export interface TestConnectionRequest {
  url: string;
  password?: string | null;
}

export interface Prerequisite {
  problem: string;
  fix: string;
}

export interface PgTable {
  schema: string;
  name: string;
  qualified: string;
  replica_identity: string;
  has_primary_key: boolean;
  can_publish: boolean;
  has_replica_identity: boolean;
  note: string | null;
}

export interface ConnectionTest {
  target: string;
  reachable: boolean;
  error: string | null;
  server_version: string | null;
  problems: Prerequisite[];
  tables: PgTable[];
  existing_slots: SlotInfo[];
}

export interface PgSourceRequest {
  name: string;
  url: string;
  password?: string | null;
  tables?: string[] | null;
  schema?: string | null;
  snapshot?: boolean | null;
}

export interface CreatePgSourceRequest extends PgSourceRequest {
  /** The plan's statements the user agreed to. */
  statements: string[];
}

export interface PgPlanInfo {
  name: string;
  url: string;
  slot: string;
  publication: string;
  insert_only_publication: string | null;
  tables: PgTable[];
  insert_only_tables: PgTable[];
  warnings: string[];
  statements: string[];
  snapshot: boolean;
}

export interface AddSqliteSourceRequest {
  name: string;
  path: string;
  tables?: string[] | null;
}

export interface SourceAdded {
  source: SourceInfo;
  task: TaskStarted | null;
  tables: string[];
  warnings: string[];
}

export interface RemoveSourceRequest {
  name: string;
  drop_upstream?: boolean | null;
  password?: string | null;
}

export interface SourceRemoved {
  name: string;
  dropped_upstream: boolean;
}

export interface SourceRequest {
  name: string;
}

export interface CancelTaskRequest {
  task_id: number;
}

export interface TaskCancelled {
  task_id: number;
  source: string;
}

/** Every API command: `[request, response]`. */
export type Commands = {
  workspace_info: [Empty, WorkspaceInfo];
  list_sources: [ListSourcesRequest, SourceList];
  test_connection: [TestConnectionRequest, ConnectionTest];
  plan_pg_source: [PgSourceRequest, PgPlanInfo];
  create_pg_source: [CreatePgSourceRequest, SourceAdded];
  add_sqlite_source: [AddSqliteSourceRequest, SourceAdded];
  remove_source: [RemoveSourceRequest, SourceRemoved];
  pause_source: [SourceRequest, SourceInfo];
  resume_source: [SourceRequest, SourceInfo];
  sync_source: [SourceRequest, TaskStarted];
  watch_source: [SourceRequest, TaskStarted];
  cancel_task: [CancelTaskRequest, TaskCancelled];
  list_tables: [ListTablesRequest, TableList];
  list_events: [ListEventsRequest, EventPage];
  count_events: [CountEventsRequest, EventCount];
  events_at: [EventsAtRequest, EventPage];
  locate_time: [LocateTimeRequest, Located];
  transaction: [TransactionRequest, TransactionDetail];
  export_events: [ExportEventsRequest, ExportText];
  record_history: [RecordRequest, RecordHistory];
  compare_versions: [CompareRequest, Comparison];
  export_history: [ExportHistoryRequest, ExportText];
};
