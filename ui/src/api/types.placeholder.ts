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

// ---- api/sources.rs (GUESSED: not written yet when this placeholder was made) ----

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
  /** `postgres`, `sqlite`, … */
  kind: string;
  /** Redacted URL or file path. */
  target: string;
  state: LiveState;
  message: string | null;
  paused: boolean;
  events: number;
  events_per_sec: number | null;
  /** Bytes or rows still to read, when known. */
  behind: number | null;
  last_event_at: string | null;
  task: TaskRef | null;
  /** PostgreSQL: every `rowtrail_%` slot on its server. */
  slots: SlotStatus[];
  /** Why the server could not be asked about its slots. */
  slots_error: string | null;
  /** Retained WAL above which the UI warns (bytes). */
  warn_retained_bytes: number | null;
}

export interface ListSourcesRequest {
  /** Ask PostgreSQL servers for their slots (slower). */
  slots?: boolean | null;
}

export interface SourceList {
  sources: SourceInfo[];
}

export interface WorkspaceInfo {
  data_dir: string;
  cache_path: string;
  events: number;
  demo: boolean;
}

export interface TestConnectionRequest {
  url: string;
  password?: string | null;
}

export interface PgTableInfo {
  schema: string;
  name: string;
  /** `default`, `full`, `index`, `nothing`. */
  replica_identity: string;
  has_primary_key: boolean;
  /** False: only inserts can be captured. */
  publishable: boolean;
  note: string | null;
}

export interface Prereq {
  problem: string;
  fix: string;
}

export interface ConnectionTest {
  server_version: string;
  tables: PgTableInfo[];
  problems: Prereq[];
}

export interface PgSourceRequest {
  name: string;
  url: string;
  password?: string | null;
  tables?: string[] | null;
  snapshot?: boolean | null;
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

export interface PgPlanInfo {
  name: string;
  url: string;
  plan: SetupPlan;
  snapshot: boolean;
}

export type CreatePgSourceRequest = PgSourceRequest;

export interface AddSqliteSourceRequest {
  name: string;
  path: string;
}

export interface SourceAdded {
  source: SourceInfo;
}

export interface RemoveSourceRequest {
  name: string;
  drop_upstream: boolean;
}

export interface SourceRemoved {
  name: string;
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

/** Every command: request → response. */
export interface Commands {
  workspace_info: { request: Empty; response: WorkspaceInfo };
  list_sources: { request: ListSourcesRequest; response: SourceList };
  test_connection: { request: TestConnectionRequest; response: ConnectionTest };
  plan_pg_source: { request: PgSourceRequest; response: PgPlanInfo };
  create_pg_source: { request: CreatePgSourceRequest; response: SourceAdded };
  add_sqlite_source: { request: AddSqliteSourceRequest; response: SourceAdded };
  remove_source: { request: RemoveSourceRequest; response: SourceRemoved };
  pause_source: { request: SourceRequest; response: SourceInfo };
  resume_source: { request: SourceRequest; response: SourceInfo };
  sync_source: { request: SourceRequest; response: TaskStarted };
  watch_source: { request: SourceRequest; response: TaskStarted };
  cancel_task: { request: CancelTaskRequest; response: TaskCancelled };
  list_tables: { request: ListTablesRequest; response: TableList };
  list_events: { request: ListEventsRequest; response: EventPage };
  count_events: { request: CountEventsRequest; response: EventCount };
  events_at: { request: EventsAtRequest; response: EventPage };
  locate_time: { request: LocateTimeRequest; response: Located };
  transaction: { request: TransactionRequest; response: TransactionDetail };
  export_events: { request: ExportEventsRequest; response: ExportText };
  record_history: { request: RecordRequest; response: RecordHistory };
  compare_versions: { request: CompareRequest; response: Comparison };
  export_history: { request: ExportHistoryRequest; response: ExportText };
}
