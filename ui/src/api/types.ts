// Generated from the Rust API types (src-tauri/core/src/api) by ts-rs. Do not edit:
// change the Rust types and run `UPDATE_TS_TYPES=1 cargo test -p rowtrail-core api::types`.

/**
 * Capture a SQLite database file (installs triggers and a `_rowtrail_log` table in it).
 */
export type AddSqliteSourceRequest = {
/**
 * Name for the source.
 */
name: string,
/**
 * The database file, as a path on the machine running Rowtrail.
 */
path: string,
/**
 * Only these tables; default every table.
 */
tables?: Array<string> | null, };

/**
 * A failed command: a code for programs and a message for people that says what failed and
 * how to fix it. Messages never contain a password.
 */
export type ApiError = {
/**
 * The kind of failure.
 */
code: ErrorCode,
/**
 * What failed and how to fix it.
 */
message: string, };

/**
 * Stop a task.
 */
export type CancelTaskRequest = {
/**
 * The task's id.
 */
task_id: number, };

/**
 * A table with captured events.
 */
export type CapturedTable = {
/**
 * Source name.
 */
source: string,
/**
 * Schema (`main` for SQLite).
 */
schema: string,
/**
 * Table name.
 */
table: string,
/**
 * `schema.table`, as filters accept it.
 */
qualified: string,
/**
 * The newest column list.
 */
columns: Array<ColumnInfo>,
/**
 * Events stored for the table.
 */
events: number, };

/**
 * A column of a captured table.
 */
export type ColumnInfo = {
/**
 * Column name, exactly as in the database.
 */
name: string,
/**
 * The database's type name.
 */
type: string,
/**
 * Part of the record key.
 */
key: boolean, };

/**
 * Compare two versions of a record.
 */
export type CompareRequest = {
/**
 * Source name, when several sources have a table of that name.
 */
source?: string | null,
/**
 * Table as `name` or `schema.name`.
 */
table: string,
/**
 * The key, as in `record_history`.
 */
key: Array<string | number> | Record<string, string | number>,
/**
 * One version number (see `record_history`).
 */
from: number,
/**
 * The other (either order).
 */
to: number, };

/**
 * Two versions side by side: what differs first, what is equal available for folding.
 */
export type Comparison = {
/**
 * The first version asked for.
 */
from: number,
/**
 * The second.
 */
to: number,
/**
 * Columns that differ, in table order.
 */
changes: Array<FieldChangeInfo>,
/**
 * Columns equal in both, in table order.
 */
unchanged: Array<UnchangedField>, };

/**
 * What a connection test found.
 */
export type ConnectionTest = {
/**
 * The URL without password.
 */
target: string,
/**
 * The server answered and accepted the login.
 */
reachable: boolean,
/**
 * Why not, if it did not.
 */
error: string | null,
/**
 * `server_version`, e.g. `16.4`.
 */
server_version: string | null,
/**
 * Missing settings or privileges, each with its fix; empty when capture can start.
 */
problems: Array<Prerequisite>,
/**
 * The user tables, for picking.
 */
tables: Array<PgTable>,
/**
 * The `rowtrail_%` slots already on the server.
 */
existing_slots: Array<SlotInfo>, };

/**
 * Count the events a filter matches.
 */
export type CountEventsRequest = {
/**
 * Which events.
 */
filter?: EventFilter | null,
/**
 * Stop counting after about this many milliseconds (default 2000) and answer a lower
 * bound; the next call goes on where this one stopped.
 */
budget_ms?: number | null, };

/**
 * Create a PostgreSQL source exactly as planned.
 */
export type CreatePgSourceRequest = {
/**
 * As in `plan_pg_source`.
 */
name: string,
/**
 * As in `plan_pg_source`.
 */
url: string,
/**
 * As in `plan_pg_source`.
 */
password?: string | null,
/**
 * As in `plan_pg_source`.
 */
tables?: Array<string> | null,
/**
 * As in `plan_pg_source`.
 */
schema?: string | null,
/**
 * As in `plan_pg_source`.
 */
snapshot?: boolean | null,
/**
 * The plan's `statements` the user agreed to; if planning again gives different ones,
 * nothing is created (`conflict`).
 */
statements: Array<string>, };

/**
 * A request without arguments (`{}`; `null` is accepted too).
 */
export type Empty = Record<symbol, never>;

/**
 * What kind of failure an [`ApiError`] is; faces map it to their own status codes.
 */
export type ErrorCode = "bad_request" | "not_found" | "conflict" | "source_error" | "events_lost" | "internal";

/**
 * How many events a filter matches.
 */
export type EventCount = {
/**
 * Matching events. A lower bound when `exact` is false.
 */
count: number,
/**
 * False when counting stopped at the time budget (ask again to go on).
 */
exact: boolean,
/**
 * Newest event id in the cache when counted.
 */
last_event_id: number, };

/**
 * One event with its images and its field changes.
 */
export type EventDetail = {
/**
 * The list row.
 */
event: EventSummary,
/**
 * The row before the change, `[column, value]` in table order (null: SQL NULL); null for
 * inserts and truncates.
 */
before: Array<[string, string | null]> | null,
/**
 * The row after the change; null for deletes and truncates.
 */
after: Array<[string, string | null]> | null,
/**
 * Columns whose value was neither sent nor inferable (left out of the images).
 */
unknown: Array<string>,
/**
 * Columns filled from an earlier version rather than sent.
 */
inferred: Array<string>,
/**
 * The changes, before → after, changed columns in table order.
 */
changes: Array<FieldChangeInfo>,
/**
 * Columns that did not change.
 */
unchanged: number,
/**
 * Columns set without their earlier value being known (see `VersionInfo`).
 */
unknown_old: Array<UnknownOld>, };

/**
 * Which events a list shows. Every field narrows the list; leave it out (or null) for "any".
 */
export type EventFilter = {
/**
 * Source name.
 */
source?: string | null,
/**
 * Table as `name` or `schema.name`.
 */
table?: string | null,
/**
 * Operation.
 */
op?: Op | null,
/**
 * Committed at or after this time, as a user types it: `2026-11-02`, `2026-11-02 09:14`
 * (UTC) or RFC 3339 with any offset.
 */
since?: string | null,
/**
 * Committed before this time (same forms as `since`).
 */
until?: string | null,
/**
 * The source's own transaction id (PostgreSQL's xid as `txid_current()` shows it).
 */
txid?: string | null,
/**
 * Text found in any transaction context value (actor, reason, endpoint), ignoring ASCII case.
 */
context?: string | null,
/**
 * Only updates that changed this column, its name in any case when no column has it
 * exactly (inserts and deletes touch every column and are not matched; a name no table
 * has matches nothing).
 */
column?: string | null,
/**
 * Value search: text (at least 3 characters) found in any value of the before or after image.
 */
search?: string | null, };

/**
 * A page of events with where it sits in the filtered list.
 */
export type EventPage = {
/**
 * The events, oldest first.
 */
events: Array<EventSummary>,
/**
 * Index of the first event in the filtered list (0-based, oldest first).
 */
first_index: number,
/**
 * Number of events the filter matches now.
 */
total: number,
/**
 * Matching events exist before this page.
 */
has_more_before: boolean,
/**
 * Matching events exist after this page.
 */
has_more_after: boolean, };

/**
 * One event as a list row: what happened, where, when and by whom, without the images.
 */
export type EventSummary = {
/**
 * Cache event id (increasing in commit order; the list's order).
 */
id: number,
/**
 * Cache row id of the transaction: rows with the same value belong to one transaction.
 */
txn_row: number,
/**
 * Source name.
 */
source: string,
/**
 * The source's transaction id.
 */
txid: string,
/**
 * Absent when the transaction is one the source committed; otherwise how its events were
 * grouped instead: `"statement"` for a SQLite source whose application does not number its
 * transactions (consecutive changes made in the same millisecond, usually by one statement —
 * not necessarily a whole commit). Show it as a "statement group", never as a transaction.
 */
grouping?: string,
/**
 * The transaction's commit position (LSN for PostgreSQL, log id otherwise).
 */
position: string,
/**
 * Commit time, RFC 3339 UTC with milliseconds.
 */
committed_at: string,
/**
 * Transaction context (actor, reason, endpoint, …).
 */
context: Record<string, string>,
/**
 * Schema.
 */
schema: string,
/**
 * Table.
 */
table: string,
/**
 * Operation.
 */
op: Op,
/**
 * The record key: `[column, value]` in key order (value null for SQL NULL).
 */
key: Array<[string, string | null]>,
/**
 * Columns an update changed (empty for other operations).
 */
changed: Array<string>,
/**
 * A one-line summary (`st: S → X; wt_g: 100 → 120`), plain text.
 */
summary: string, };

/**
 * The page that starts at a position of the filtered list (for a scrollbar dragged anywhere).
 */
export type EventsAtRequest = {
/**
 * Which events.
 */
filter?: EventFilter | null,
/**
 * 0-based index in the filtered list, oldest first.
 */
index: number,
/**
 * At most this many (default 100, at most 1000).
 */
limit?: number | null, };

/**
 * Export the filtered list.
 */
export type ExportEventsRequest = {
/**
 * Which events.
 */
filter?: EventFilter | null,
/**
 * CSV or JSON Lines.
 */
format: ExportFormat,
/**
 * At most this many events (default and maximum 200,000 in one text; no maximum when
 * streamed), the first ones in the export's order.
 */
limit?: number | null,
/**
 * In the order the Changes list shows by default: newest first (default: oldest first,
 * as `rowtrail events` prints them).
 */
newest_first?: boolean | null, };

/**
 * The two export formats.
 */
export type ExportFormat = "csv" | "json";

/**
 * Export a record's history.
 */
export type ExportHistoryRequest = {
/**
 * Source name, when several sources have a table of that name.
 */
source?: string | null,
/**
 * Table as `name` or `schema.name`.
 */
table: string,
/**
 * The key, as in `record_history`.
 */
key: Array<string | number> | Record<string, string | number>,
/**
 * CSV (one row per changed column of each version) or JSON Lines (one version per line).
 */
format: ExportFormat, };

/**
 * An export, ready to save as a file.
 */
export type ExportText = {
/**
 * A file name to offer (`events.csv`, `shp-1007-history.jsonl`).
 */
filename: string,
/**
 * The MIME type (`text/csv; charset=utf-8`, `application/x-ndjson`).
 */
content_type: string,
/**
 * The file's content.
 */
text: string,
/**
 * Rows (events or changes) in it, header not counted.
 */
rows: number,
/**
 * The export stopped at its limit; more rows match (they are the ones at the end of the
 * list's order: the oldest when newest first).
 */
truncated: boolean,
/**
 * Rows the filter matches (equal to `rows` unless `truncated`).
 */
total: number, };

/**
 * How one column differs between two states of a record.
 */
export type FieldChangeInfo = {
/**
 * Column name.
 */
column: string,
/**
 * The column's type.
 */
type: string,
/**
 * Old value (null: SQL NULL or absent).
 */
old: string | null,
/**
 * New value.
 */
new: string | null,
/**
 * The structured diff, ready to render (word spans, lines, JSON paths).
 */
diff: ValueDiff,
/**
 * The old or new value was filled from an earlier version rather than sent.
 */
inferred: boolean,
/**
 * The old value is unknown: neither sent by the source nor held by an earlier version
 * (`old` is then null, which does not mean NULL). The diff is `unknown` for a value
 * set, `deleted` for a deleted record's column whose last value is not known.
 */
unknown: boolean, };

/**
 * A gap in a record's history.
 */
export type GapInfo = {
/**
 * The version the gap follows (the next version, if any, was read after it).
 */
after_version: number,
/**
 * The last position read before the gap.
 */
from_position: string,
/**
 * Commit time of the last transaction read before it (RFC 3339), if known.
 */
from_time: string | null,
/**
 * Where reading started again.
 */
to_position: string,
/**
 * When reading started again (RFC 3339).
 */
to_time: string,
/**
 * Why.
 */
reason: string,
/**
 * One sentence for people.
 */
message: string, };

/**
 * One structural change inside a JSON value ([`ValueDiff::Json`]).
 */
export type JsonChange = {
/**
 * JSON-pointer (RFC 6901) path of the changed node, e.g. `/items/2/qty`; `""` is the
 * whole document. Array indexes are those of the new version, except for `Removed`
 * elements, which carry their old index.
 */
path: string,
/**
 * What happened at `path`.
 */
change: JsonChangeKind, };

/**
 * What happened at one JSON path; serialized with a `"kind"` tag.
 */
export type JsonChangeKind = { "kind": "added",
/**
 * The added value.
 */
new: JsonValue, } | { "kind": "removed",
/**
 * The removed value.
 */
old: JsonValue, } | { "kind": "changed",
/**
 * The old value.
 */
old: JsonValue,
/**
 * The new value.
 */
new: JsonValue, } | { "kind": "moved",
/**
 * The element's index in the old array.
 */
from: number,
/**
 * The element's index in the new array.
 */
to: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * One line of a multi-line diff ([`ValueDiff::Lines`]), serialized with an `"op"` tag.
 *
 * Line texts keep their terminator (`\n`, `\r\n`) exactly as in the value, so nothing is
 * lost: the old value is the concatenation of the `Equal` and `Delete` texts plus the old
 * side of every `Changed` line (its `Equal` and `Delete` spans); the new value likewise with
 * `Insert`. Renderers strip the final `\n` for display.
 */
export type LineChange = { "op": "equal",
/**
 * The line, with its terminator.
 */
text: string, } | { "op": "delete",
/**
 * The line, with its terminator.
 */
text: string, } | { "op": "insert",
/**
 * The line, with its terminator.
 */
text: string, } | { "op": "changed",
/**
 * Spans covering the old line (`Equal` + `Delete`) and the new line
 * (`Equal` + `Insert`), terminators included.
 */
spans: Array<Span>, };

/**
 * A page of the filtered list by keyset: the events after `after_id`, or before `before_id`,
 * or the first ones. Pages are always in id order (oldest first).
 */
export type ListEventsRequest = {
/**
 * Which events.
 */
filter?: EventFilter | null,
/**
 * Return the events right after this id.
 */
after_id?: number | null,
/**
 * Return the events right before this id (with `after_id`: between the two). Use a huge
 * number for the newest events.
 */
before_id?: number | null,
/**
 * At most this many (default 100, at most 1000).
 */
limit?: number | null, };

/**
 * List the sources.
 */
export type ListSourcesRequest = {
/**
 * Ask PostgreSQL servers for their slots' health (default true; takes a moment per server).
 */
slots?: boolean | null,
/**
 * Flag slots retaining more WAL than this many MiB (default 1024).
 */
warn_retained_mib?: number | null, };

/**
 * List the captured tables.
 */
export type ListTablesRequest = {
/**
 * Only this source's tables.
 */
source?: string | null, };

/**
 * What a source is doing now, as the Sources screen shows it.
 */
export type LiveState = "idle" | "connecting" | "catching_up" | "live" | "reconnecting" | "error" | "paused";

/**
 * Find the first event at or after a time (for "jump to time").
 */
export type LocateTimeRequest = {
/**
 * Which events.
 */
filter?: EventFilter | null,
/**
 * The time, as a user types it (`2026-11-02 09:14`, RFC 3339, …).
 */
at: string, };

/**
 * Where a time falls in the filtered list.
 */
export type Located = {
/**
 * The first matching event committed at or after the time; null when there is none
 * (the time is after the last event).
 */
id: number | null,
/**
 * Its index in the filtered list (the list's length when `id` is null).
 */
index: number,
/**
 * Its commit time.
 */
committed_at: string | null,
/**
 * Number of events the filter matches.
 */
total: number, };

/**
 * What happened to a row.
 */
export type Op = "insert" | "update" | "delete" | "truncate";

/**
 * Exactly what adding a PostgreSQL source will create on the server.
 */
export type PgPlanInfo = {
/**
 * The source name.
 */
name: string,
/**
 * The URL without password.
 */
url: string,
/**
 * The logical replication slot to create.
 */
slot: string,
/**
 * The publication for fully captured tables.
 */
publication: string,
/**
 * The inserts-only publication for tables without a replica identity, if any.
 */
insert_only_publication: string | null,
/**
 * Tables captured fully.
 */
tables: Array<PgTable>,
/**
 * Tables captured for inserts only.
 */
insert_only_tables: Array<PgTable>,
/**
 * What the user should know (partial images, inserts-only tables).
 */
warnings: Array<string>,
/**
 * The SQL that will run, in order.
 */
statements: Array<string>,
/**
 * A baseline of every current row will be recorded.
 */
snapshot: boolean, };

/**
 * A PostgreSQL source to plan (or, with the plan's statements, to create).
 */
export type PgSourceRequest = {
/**
 * Name for the source (letters, digits, `-`, `_`, `.`; names the slot `rowtrail_<name>`).
 */
name: string,
/**
 * `postgres://user@host:port/db?sslmode=…`.
 */
url: string,
/**
 * The password (used now and for watching during this session; never stored).
 */
password?: string | null,
/**
 * Only these tables (`name` or `schema.name`); default every table.
 */
tables?: Array<string> | null,
/**
 * Only the tables of this schema.
 */
schema?: string | null,
/**
 * Also record every current row once, as a baseline version.
 */
snapshot?: boolean | null, };

/**
 * A table on the server, for the table picker.
 */
export type PgTable = {
/**
 * Schema.
 */
schema: string,
/**
 * Name.
 */
name: string,
/**
 * `schema.name`.
 */
qualified: string,
/**
 * `default`, `full`, `index` or `nothing`.
 */
replica_identity: string,
/**
 * The table has a primary key.
 */
has_primary_key: boolean,
/**
 * The connected role may publish it (owns it or is superuser).
 */
can_publish: boolean,
/**
 * Updates and deletes can be captured. Without a replica identity the table is captured
 * for inserts only: publishing its updates would make every UPDATE/DELETE on it fail.
 */
has_replica_identity: boolean,
/**
 * What the picker should say about it, if anything.
 */
note: string | null, };

/**
 * Something the server lacks, with what fixes it.
 */
export type Prerequisite = {
/**
 * What is missing.
 */
problem: string,
/**
 * What to run or change.
 */
fix: string, };

/**
 * A record's whole history.
 */
export type RecordHistory = {
/**
 * Source name.
 */
source: string,
/**
 * Schema.
 */
schema: string,
/**
 * Table.
 */
table: string,
/**
 * `schema.table`.
 */
qualified: string,
/**
 * The key: `[column, value]` in key order.
 */
key: Array<[string, string]>,
/**
 * The key column names, in key order.
 */
key_columns: Array<string>,
/**
 * The table's newest columns with their types.
 */
columns: Array<ColumnInfo>,
/**
 * Versions, oldest first.
 */
versions: Array<VersionInfo>,
/**
 * Stretches of the source's stream that were never read (a slot re-created by `source
 * reset`) within this history: the record may have changed there unseen.
 */
gaps: Array<GapInfo>, };

/**
 * Which record: a table and its key.
 */
export type RecordRequest = {
/**
 * Source name, when several sources have a table of that name.
 */
source?: string | null,
/**
 * Table as `name` or `schema.name`.
 */
table: string,
/**
 * The key: values in key-column order (`["5001"]`, `[5001, 2]`) or by column
 * (`{"shp_id": "5001", "ln_no": "2"}`). Numbers are read as their decimal text.
 */
key: Array<string | number> | Record<string, string | number>, };

/**
 * Remove a source and its captured events.
 */
export type RemoveSourceRequest = {
/**
 * The source.
 */
name: string,
/**
 * Also drop what Rowtrail created upstream: the slot and publications (PostgreSQL; frees
 * the WAL the slot retains) or the triggers and log table (SQLite).
 */
drop_upstream?: boolean | null,
/**
 * PostgreSQL password for dropping the slot (otherwise the session's or the environment's).
 */
password?: string | null, };

/**
 * What resetting a PostgreSQL source will do on its server.
 */
export type ResetPlanInfo = {
/**
 * The source.
 */
name: string,
/**
 * The slot.
 */
slot: string,
/**
 * Why: `missing`, `lost` or `ahead`.
 */
slot_state: string,
/**
 * The cache's position: the gap starts here.
 */
from_position: string,
/**
 * Cached events, all kept.
 */
cached_events: number,
/**
 * The SQL that will run, in order.
 */
statements: Array<string>, };

/**
 * Reset a PostgreSQL source exactly as planned.
 */
export type ResetSourceRequest = {
/**
 * The source.
 */
name: string,
/**
 * PostgreSQL password for this session (otherwise the session's or the environment's).
 */
password?: string | null,
/**
 * The plan's `statements` the user agreed to; if planning again gives different ones,
 * nothing is changed (`conflict`).
 */
statements: Array<string>, };

/**
 * Something that happened in the background, pushed to every subscriber (server-sent events
 * over HTTP, a channel in the desktop app). Serialized with a `type` tag.
 */
export type ServerEvent = { "type": "progress",
/**
 * The task.
 */
task_id: number,
/**
 * The source.
 */
source: string,
/**
 * What it is doing.
 */
state: LiveState,
/**
 * Events stored by this run.
 */
events: number,
/**
 * Transactions stored by this run.
 */
transactions: number,
/**
 * Last durable position (empty before the first commit).
 */
position: string,
/**
 * Bytes (PostgreSQL WAL) or rows (log tables) still to read, when known.
 */
behind: number | null,
/**
 * Events stored per second over the last few seconds.
 */
events_per_sec: number,
/**
 * A note for the user (a warning, the reason for reconnecting).
 */
message: string | null, } | { "type": "events_added",
/**
 * The source.
 */
source: string,
/**
 * The newest event id of that source now.
 */
last_event_id: number, } | { "type": "source_state",
/**
 * The source.
 */
source: string,
/**
 * The new state.
 */
state: LiveState,
/**
 * Why, for errors and reconnects.
 */
message: string | null, } | { "type": "task_finished",
/**
 * The task.
 */
task_id: number,
/**
 * The source.
 */
source: string,
/**
 * Sync or watch.
 */
kind: TaskKind,
/**
 * Why it failed, if it did.
 */
error: ApiError | null, } | { "type": "sources_changed", } | { "type": "lagged",
/**
 * How many events were dropped.
 */
missed: number, };

/**
 * A PostgreSQL source's slot, and the other Rowtrail slots on its server.
 */
export type SlotHealth = {
/**
 * This source's slot name.
 */
slot: string,
/**
 * Its state; null when the server has no such slot (dropped: history after the cache's
 * position is lost) or could not be asked.
 */
own: SlotInfo | null,
/**
 * Other `rowtrail_%` slots on the same server (other caches, leftovers to drop).
 */
others: Array<SlotInfo>,
/**
 * Why the server could not be asked, if it could not.
 */
error: string | null,
/**
 * The retained-WAL threshold used for `warn`, in bytes.
 */
warn_threshold_bytes: number,
/**
 * Holes in the capture made on the server behind Rowtrail's back (a table taken out of
 * the publication, dropped, or dropped and created again), one sentence each.
 */
capture_problems: Array<string>, };

/**
 * One `rowtrail_%` replication slot on a server.
 */
export type SlotInfo = {
/**
 * Slot name.
 */
slot: string,
/**
 * A client is streaming from it now.
 */
active: boolean,
/**
 * `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+).
 */
wal_status: string | null,
/**
 * Bytes of WAL the server keeps for this slot.
 */
retained_bytes: number | null,
/**
 * Bytes between the server's WAL position and what the slot confirmed.
 */
lag_bytes: number | null,
/**
 * The slot's confirmed position.
 */
confirmed_flush: string | null,
/**
 * The server invalidated the slot: history after its position is lost; `reset_source`
 * re-creates it and keeps the cached events.
 */
lost: boolean,
/**
 * Retained WAL is above the warning threshold (or the slot is lost).
 */
warn: boolean, };

/**
 * A source was added (and is being watched).
 */
export type SourceAdded = {
/**
 * The new source.
 */
source: SourceInfo,
/**
 * The watch task started for it.
 */
task: TaskStarted | null,
/**
 * The tables captured.
 */
tables: Array<string>,
/**
 * What the user should know (inserts-only tables, tables keyed by rowid, …).
 */
warnings: Array<string>, };

/**
 * One configured source and what it is doing.
 */
export type SourceInfo = {
/**
 * The source's name.
 */
name: string,
/**
 * `postgres` or `sqlite`.
 */
kind: string,
/**
 * The URL without password, or the database file.
 */
target: string,
/**
 * Where the source resumes (LSN or log id); null before the first capture.
 */
position: string | null,
/**
 * Paused by the user (not watched, not resumed on start).
 */
paused: boolean,
/**
 * What it is doing now.
 */
state: LiveState,
/**
 * Why it failed or reconnects, or the latest warning.
 */
message: string | null,
/**
 * Events stored from this source.
 */
events_stored: number,
/**
 * Events stored per second over the last few seconds, while a task runs.
 */
events_per_sec: number | null,
/**
 * Bytes (PostgreSQL WAL) or rows still to read, when known.
 */
behind: number | null,
/**
 * The running sync or watch task.
 */
task: TaskRef | null,
/**
 * PostgreSQL only, when asked for: the slot's lag and retained WAL.
 */
slot: SlotHealth | null,
/**
 * What the user was told once about its tables (updates carrying only the key, inserts
 * only, generated columns not sent), one sentence per table and kind.
 */
warnings: Array<string>, };

/**
 * The sources, by name.
 */
export type SourceList = {
/**
 * Every configured source.
 */
sources: Array<SourceInfo>, };

/**
 * A source was removed.
 */
export type SourceRemoved = {
/**
 * The source.
 */
name: string,
/**
 * Its upstream objects were dropped too.
 */
dropped_upstream: boolean, };

/**
 * Names one source.
 */
export type SourceRequest = {
/**
 * The source.
 */
name: string,
/**
 * PostgreSQL password for this session (otherwise the session's or the environment's).
 */
password?: string | null, };

/**
 * A run of text with one [`SpanOp`]; a word diff is a list of these, so a UI can render
 * deletions and insertions inline without re-diffing.
 */
export type Span = {
/**
 * Whether the text is common, deleted or inserted.
 */
op: SpanOp,
/**
 * The text exactly as in the value (whitespace included).
 */
text: string, };

/**
 * What a [`Span`] of text did between the two versions.
 */
export type SpanOp = "equal" | "delete" | "insert";

/**
 * The captured tables.
 */
export type TableList = {
/**
 * Tables by source, schema and name.
 */
tables: Array<CapturedTable>, };

/**
 * A task was stopped; what it read is kept.
 */
export type TaskCancelled = {
/**
 * The task's id.
 */
task_id: number,
/**
 * Its source.
 */
source: string, };

/**
 * The two kinds of background task.
 */
export type TaskKind = "sync" | "watch";

/**
 * A running task, as the source list shows it.
 */
export type TaskRef = {
/**
 * The task's id.
 */
task_id: number,
/**
 * Sync or watch.
 */
kind: TaskKind, };

/**
 * A task was started (or one was already running for the source).
 */
export type TaskStarted = {
/**
 * The task's id (see [`ServerEvent::TaskFinished`], `cancel_task`).
 */
task_id: number,
/**
 * The source.
 */
source: string,
/**
 * Sync or watch.
 */
kind: TaskKind,
/**
 * False when a task that does the job was already running; its id is returned.
 */
started: boolean, };

/**
 * Try a PostgreSQL URL before adding it as a source. Creates nothing.
 */
export type TestConnectionRequest = {
/**
 * `postgres://user@host:port/db?sslmode=…` (a password in it is used, never stored).
 */
url: string,
/**
 * The password (otherwise the URL's, or ROWTRAIL_PG_PASSWORD / PGPASSWORD).
 */
password?: string | null, };

/**
 * Everything in one transaction.
 */
export type TransactionDetail = {
/**
 * Cache row of the transaction.
 */
txn_row: number,
/**
 * Source name.
 */
source: string,
/**
 * The source's transaction id.
 */
txid: string,
/**
 * Absent when the transaction is one the source committed; otherwise how its events were
 * grouped instead: `"statement"` for a SQLite source whose application does not number its
 * transactions (consecutive changes made in the same millisecond, usually by one statement —
 * not necessarily a whole commit). Show it as a "statement group", never as a transaction.
 */
grouping?: string,
/**
 * Commit position.
 */
position: string,
/**
 * Commit time, RFC 3339.
 */
committed_at: string,
/**
 * Context (actor, reason, endpoint, …).
 */
context: Record<string, string>,
/**
 * Number of events in the transaction.
 */
event_count: number,
/**
 * Events per table and operation.
 */
counts: Array<TxnCount>,
/**
 * The events, in commit order (at most `limit`).
 */
events: Array<EventDetail>,
/**
 * More events exist than were returned.
 */
truncated: boolean, };

/**
 * One transaction: by its cache row (`txn_row` of any event row), or by the source's txid.
 */
export type TransactionRequest = {
/**
 * Source name (needed with `txid` when several sources use the same id).
 */
source?: string | null,
/**
 * The source's transaction id.
 */
txid?: string | null,
/**
 * The transaction's cache row (exact; from an event row's `txn_row`).
 */
txn_row?: number | null,
/**
 * Return at most this many of its events (default and maximum 5000); counts cover all.
 */
limit?: number | null, };

/**
 * How many events of one table and operation a transaction holds.
 */
export type TxnCount = {
/**
 * Schema.
 */
schema: string,
/**
 * Table.
 */
table: string,
/**
 * Operation.
 */
op: Op,
/**
 * Number of events.
 */
count: number, };

/**
 * A column equal in both versions.
 */
export type UnchangedField = {
/**
 * Column name.
 */
column: string,
/**
 * Its type.
 */
type: string,
/**
 * The value in both versions (null: SQL NULL).
 */
value: string | null, };

/**
 * A column whose new value is known but whose earlier value is not.
 */
export type UnknownOld = {
/**
 * Column name.
 */
column: string,
/**
 * Its type.
 */
type: string,
/**
 * The new value (null: SQL NULL).
 */
new: string | null, };

/**
 * The difference between two versions of one column value.
 *
 * Serialized with a `"kind"` tag (`{"kind": "replaced", "old": …, "new": …}`) so that the
 * web UI can switch on it; the CLI renders it with [`render_plain`].
 */
export type ValueDiff = { "kind": "unchanged" } | { "kind": "set",
/**
 * The new value, in the database's text form.
 */
new: string, } | { "kind": "cleared",
/**
 * The old value, in the database's text form.
 */
old: string, } | { "kind": "replaced",
/**
 * The old value, in the database's text form.
 */
old: string,
/**
 * The new value, in the database's text form.
 */
new: string, } | { "kind": "text",
/**
 * The spans in reading order; within a change, deletions come before insertions.
 */
spans: Array<Span>, } | { "kind": "lines",
/**
 * The lines in reading order; see [`LineChange`] for how they rebuild both values.
 */
lines: Array<LineChange>, } | { "kind": "json",
/**
 * The individual changes, in document order.
 */
changes: Array<JsonChange>, } | { "kind": "unknown",
/**
 * The new value, in the database's text form (null: SQL NULL).
 */
new: string | null, } | { "kind": "deleted",
/**
 * The removed value, in the database's text form (null: SQL NULL, or unknown when
 * the change says so).
 */
old: string | null, };

/**
 * One version of a record: the state after one event.
 */
export type VersionInfo = {
/**
 * 1-based version number, oldest first.
 */
number: number,
/**
 * The event that made it (time, operation, transaction, context, …).
 */
event: EventSummary,
/**
 * What the event changed, changed columns in table order.
 */
changes: Array<FieldChangeInfo>,
/**
 * Number of columns it left unchanged.
 */
unchanged: number,
/**
 * Columns whose values were filled from an earlier version rather than sent.
 */
inferred: Array<string>,
/**
 * Columns the event set without their earlier value being known (neither sent nor
 * inferable: a history that starts mid-way on a table whose updates carry only the key).
 */
unknown_old: Array<UnknownOld>, };

/**
 * Where the workspace lives and how much it holds.
 */
export type WorkspaceInfo = {
/**
 * The workspace directory.
 */
data_dir: string,
/**
 * The cache file.
 */
cache_path: string,
/**
 * Events stored.
 */
event_count: number,
/**
 * Transactions stored.
 */
transaction_count: number,
/**
 * Configured sources.
 */
source_count: number,
/**
 * Tables with captured events.
 */
table_count: number,
/**
 * The cache's schema version.
 */
schema_version: number,
/**
 * Rowtrail's version.
 */
version: string, };

/** Every API command: `[request, response]`. */
export type Commands = {
  workspace_info: [Empty, WorkspaceInfo];
  list_sources: [ListSourcesRequest, SourceList];
  test_connection: [TestConnectionRequest, ConnectionTest];
  plan_pg_source: [PgSourceRequest, PgPlanInfo];
  create_pg_source: [CreatePgSourceRequest, SourceAdded];
  add_sqlite_source: [AddSqliteSourceRequest, SourceAdded];
  remove_source: [RemoveSourceRequest, SourceRemoved];
  plan_reset_source: [SourceRequest, ResetPlanInfo];
  reset_source: [ResetSourceRequest, SourceInfo];
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
