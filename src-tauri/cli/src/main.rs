//! `rowtrail`: every engine capability from a terminal. Human output by default, `--json`
//! for scripts; progress on stderr only when it is a terminal.
//!
//! Exit codes: 0 success, 1 error, 2 usage error, 3 a source could not be reached,
//! 4 events were lost upstream (history has a gap), 141 stdout was closed early (see `out`).

// Every line for stdout goes through the one writer in `out` (a closed pipe ends the program
// quietly instead of panicking). Defined before the modules, these replace std's macros in
// all of them, so no command can print around the writer.
macro_rules! println {
    () => { $crate::out::line(format_args!("")) };
    ($($arg:tt)*) => { $crate::out::line(format_args!($($arg)*)) };
}
macro_rules! print {
    ($($arg:tt)*) => { $crate::out::text(format_args!($($arg)*)) };
}

mod docs;
mod out;
mod output;
mod progress;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rowtrail_core::cache::query::EventFilter;
use rowtrail_core::cache::Cache;
use rowtrail_core::event::Op;
use rowtrail_core::history;
use rowtrail_core::source::postgres::catalog::TableScope;
use rowtrail_core::source::postgres::conn::PgConnInfo;
use rowtrail_core::source::{RunOptions, RunUntil, SourceError};
use rowtrail_core::sync;
use rowtrail_core::time_fmt::parse_user_time;
use rowtrail_core::workspace::Workspace;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "rowtrail",
    version,
    about = "What happened to this record, who did it, and can we undo it?",
    after_long_help = docs::after_long_help()
)]
struct Cli {
    /// Workspace directory holding the cache [env: ROWTRAIL_DATA_DIR; default: the platform data dir]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print JSON (JSON Lines for lists) instead of human text.
    #[arg(long, global = true)]
    json: bool,
    /// Ask for the PostgreSQL password on the terminal (otherwise ROWTRAIL_PG_PASSWORD, PGPASSWORD or the URL).
    #[arg(short = 'W', long = "password", global = true)]
    ask_password: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Add, list, inspect and remove change sources.
    #[command(subcommand)]
    Source(SourceCmd),
    /// Read every source until caught up, then exit.
    Sync {
        /// Only this source.
        name: Option<String>,
    },
    /// Follow sources live until interrupted (Ctrl-C).
    Watch {
        /// Only this source.
        name: Option<String>,
    },
    /// List captured change events, oldest first.
    Events(EventsArgs),
    /// A record's versions, newest first, each with its changes.
    History {
        /// Table (`name` or `schema.name`).
        table: String,
        /// Key value(s): one per key column, in order, or `column=value`.
        #[arg(required = true)]
        key: Vec<String>,
        /// Source, when several have this table.
        #[arg(long)]
        source: Option<String>,
        /// Show long values whole (by default unchanged text far from a change is shortened).
        #[arg(long)]
        full: bool,
    },
    /// Compare two versions of a record.
    Diff {
        /// Table (`name` or `schema.name`).
        table: String,
        /// Key value(s).
        #[arg(required = true)]
        key: Vec<String>,
        /// Older version number (see `rowtrail history`).
        #[arg(long)]
        from: usize,
        /// Newer version number.
        #[arg(long)]
        to: usize,
        /// Source, when several have this table.
        #[arg(long)]
        source: Option<String>,
        /// Show long values whole (by default unchanged text far from a change is shortened).
        #[arg(long)]
        full: bool,
    },
    /// Create the built-in demo (a small logistics database), capture it and say where to look.
    Demo,
    /// Serve the UI and its API in a browser, on 127.0.0.1 only, with the workspace's token.
    Serve(ServeArgs),
    /// Print a shell completion script (bash: `rowtrail completions bash > ~/.local/share/bash-completion/completions/rowtrail`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages and completions the .deb ships into DIR/man and DIR/completions
    /// (src-tauri/scripts/package-files.sh runs it before bundling).
    #[command(hide = true)]
    PackageFiles {
        /// Output directory.
        dir: PathBuf,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Port on 127.0.0.1 [default: 7420, or any free port when that one is taken; 0: any free port].
    #[arg(long)]
    port: Option<u16>,
    /// Do not open a browser.
    #[arg(long)]
    no_open: bool,
    /// First create (or refresh) the built-in demo and capture it, as `rowtrail demo` does.
    #[arg(long)]
    demo: bool,
    /// The built UI (default: ui/dist next to the program or in this source tree).
    #[arg(long, value_name = "DIR", env = "ROWTRAIL_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Make a new token (the workspace keeps one in `serve-token`, readable by you only, so a
    /// restart keeps the address): addresses printed before stop working.
    #[arg(long)]
    new_token: bool,
}

#[derive(Subcommand)]
enum SourceCmd {
    /// Add a source.
    #[command(subcommand)]
    Add(AddCmd),
    /// List sources.
    List,
    /// Show each source's position, and for PostgreSQL every rowtrail slot's retained WAL and lag.
    Status {
        /// Warn when a slot retains more than this many MiB of WAL.
        #[arg(long, default_value_t = 1024)]
        warn_mib: i64,
    },
    /// Re-create a SQLite source's capture triggers with its tables' current columns (after
    /// ALTER TABLE … ADD COLUMN); shows what it changes and asks first.
    Refresh {
        /// Source name.
        name: String,
        /// Refresh without asking (the plan is still printed).
        #[arg(long, short)]
        yes: bool,
    },
    /// Remove a source and its captured events (asks first: they cannot be read again).
    Rm {
        /// Source name.
        name: String,
        /// Also drop the replication slot and publications (PostgreSQL) or the triggers and log (SQLite).
        #[arg(long)]
        drop_slot: bool,
        /// Delete the cached events without asking.
        #[arg(long, short)]
        yes: bool,
    },
    /// Re-create a PostgreSQL source's lost, dropped or overtaken slot (and any missing
    /// publication), keeping its cached events; the changes in between are recorded as a gap.
    Reset {
        /// Source name.
        name: String,
        /// Run without asking (the plan is still printed).
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum AddCmd {
    /// A PostgreSQL database through logical replication (pgoutput).
    Pg {
        /// Name for the source.
        name: String,
        /// postgres://user@host:port/db (sslmode=disable|require|verify-full; remote hosts verify by default).
        #[arg(long)]
        url: String,
        /// Only these tables (comma separated, `name` or `schema.name`).
        #[arg(long, value_delimiter = ',', conflicts_with = "schema")]
        tables: Option<Vec<String>>,
        /// Only the tables of this schema.
        #[arg(long)]
        schema: Option<String>,
        /// Record every current row once as a baseline version, consistent with the stream's start.
        #[arg(long)]
        snapshot: bool,
        /// Also read transaction context from logical messages with this prefix (besides `rowtrail`; repeatable).
        #[arg(long = "context-prefix", value_name = "PREFIX")]
        context_prefix: Vec<String>,
        /// When a publication named like the source already exists, capture through it as it
        /// is (its tables are shown; Rowtrail never alters or drops it).
        #[arg(long)]
        reuse_publication: bool,
        /// Create without asking (the plan is still printed).
        #[arg(long, short)]
        yes: bool,
    },
    /// A SQLite database file, through triggers into a log table inside it.
    Sqlite {
        /// Name for the source.
        name: String,
        /// The database file.
        #[arg(long)]
        path: PathBuf,
        /// Only these tables (comma separated).
        #[arg(long, value_delimiter = ',')]
        tables: Option<Vec<String>>,
        /// Install without asking (what it creates is still printed).
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Args)]
struct EventsArgs {
    /// Only this source.
    #[arg(long)]
    source: Option<String>,
    /// Only this table (`name` or `schema.name`).
    #[arg(long)]
    table: Option<String>,
    /// Only this operation: insert, update, delete, truncate.
    #[arg(long)]
    op: Option<String>,
    /// Committed at or after (2026-11-02, 2026-11-02 09:14, RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// Committed before.
    #[arg(long)]
    until: Option<String>,
    /// Only this transaction (the source's id, as `txid_current()` shows it).
    #[arg(long)]
    txn: Option<String>,
    /// Only events with a value containing this text.
    #[arg(long)]
    search: Option<String>,
    /// At most this many events.
    #[arg(long)]
    limit: Option<usize>,
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl From<SourceError> for Failure {
    fn from(e: SourceError) -> Self {
        let code = match &e {
            SourceError::Gap { .. } => 4,
            e if e.is_transient() => 3,
            _ => 1,
        };
        Failure { code, message: e.to_string() }
    }
}

macro_rules! failure_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self { Failure { code: 1, message: e.to_string() } }
        }
    )*};
}
failure_from!(rowtrail_core::cache::CacheError, std::io::Error, String);

impl From<history::HistoryError> for Failure {
    fn from(e: history::HistoryError) -> Self {
        use history::HistoryError as H;
        // What the user typed does not fit (a key of the wrong shape, a version out of range,
        // a name needing --source) is a usage error; a well-formed name that matches nothing
        // is an ordinary one.
        let code = match &e {
            H::Ambiguous { .. } | H::BadKey { .. } | H::NoVersion { .. } => 2,
            _ => 1,
        };
        Failure { code, message: e.to_string() }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rowtrail: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("rowtrail: {}", output::sanitize(&f.message));
            ExitCode::from(f.code)
        }
    }
}

/// Asks `question` on the terminal; anything but yes fails with `refused`. Without a
/// terminal the answer cannot be given, so it fails as a usage error pointing at `--yes`.
fn confirm(question: &str, refused: &str) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure { code: 2, message: format!("{refused}: confirm with --yes (stdin is not a terminal)") });
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        return Err(Failure { code: 1, message: refused.to_string() });
    }
    Ok(())
}

fn password(cli: &Cli) -> Result<Option<String>, Failure> {
    if cli.ask_password {
        let p = rpassword::prompt_password("PostgreSQL password: ")?;
        return Ok(Some(p));
    }
    Ok(std::env::var("ROWTRAIL_PG_PASSWORD").or_else(|_| std::env::var("PGPASSWORD")).ok())
}

/// Refuses to go on in a workspace that does not exist. Opening the cache creates one, which
/// only `demo`, `source add` and `serve` may do: anything else in a mistyped `--data-dir`
/// would silently read (or watch) an empty new workspace.
fn require_workspace(ws: &Workspace, cmd: &Cmd) -> Result<(), Failure> {
    let creates = matches!(cmd, Cmd::Demo | Cmd::Serve(_) | Cmd::Source(SourceCmd::Add(_)));
    if creates || ws.exists() {
        return Ok(());
    }
    let dir = ws.dir().display();
    if ws.is_chosen() {
        let what = if ws.dir().is_dir() { "holds no Rowtrail workspace (no cache.sqlite)" } else { "does not exist" };
        return Err(Failure {
            code: 2,
            message: format!("workspace {dir} {what}: check --data-dir / ROWTRAIL_DATA_DIR, or create it with `rowtrail source add …` or `rowtrail demo`"),
        });
    }
    Err(Failure {
        code: 1,
        message: format!("no workspace yet ({dir} does not exist): add a source with `rowtrail source add pg|sqlite …`, or try `rowtrail demo`"),
    })
}

/// A `--since`/`--until` value, or a usage error naming the option.
fn user_time(option: &str, value: Option<&str>) -> Result<Option<i64>, Failure> {
    value
        .map(|v| parse_user_time(v).map_err(|m| Failure { code: 2, message: format!("{option} {v:?}: {m}") }))
        .transpose()
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // These describe the program, not a workspace.
    match &cli.cmd {
        Cmd::Completions { shell } => {
            docs::print_completions(*shell);
            return Ok(());
        }
        Cmd::PackageFiles { dir } => {
            return docs::write_package_files(dir)
                .map_err(|e| Failure { code: 1, message: format!("cannot write the package files into {}: {e}", dir.display()) });
        }
        _ => {}
    }
    let ws = Workspace::resolve(cli.data_dir.as_deref());
    require_workspace(&ws, &cli.cmd)?;
    let (fresh, dir_existed) = (!ws.exists(), ws.dir().exists());
    let res = run_in(&cli, &ws).await;
    if res.is_err() && fresh && matches!(cli.cmd, Cmd::Source(SourceCmd::Add(_))) {
        discard_empty_workspace(&ws, dir_existed);
    }
    res
}

/// Removes the cache a failed `source add` created in a new workspace, when it holds no
/// source, and the directory too when this run made it: a first attempt in a mistyped
/// `--data-dir` must not leave an empty workspace behind.
fn discard_empty_workspace(ws: &Workspace, dir_existed: bool) {
    if !ws.exists() {
        return;
    }
    let empty = Cache::open(&ws.cache_path()).and_then(|c| c.sources()).is_ok_and(|s| s.is_empty());
    if empty {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = ws.cache_path().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        if !dir_existed {
            // remove_dir refuses a directory that holds anything else.
            let _ = std::fs::remove_dir(ws.dir());
        }
    }
}

async fn run_in(cli: &Cli, ws: &Workspace) -> Result<(), Failure> {
    let cache_path = ws.cache_path();
    match &cli.cmd {
        Cmd::Source(SourceCmd::Add(AddCmd::Pg { name, url, tables, schema, snapshot, context_prefix, reuse_publication, yes })) => {
            PgConnInfo::parse(url).map_err(|m| Failure { code: 2, message: format!("--url: {m}") })?;
            let cache = Cache::open(&cache_path)?;
            let pw = password(&cli)?;
            let scope = match (tables, schema) {
                (Some(t), _) => TableScope::List(t.clone()),
                (None, Some(s)) => TableScope::Schema(s.clone()),
                (None, None) => TableScope::All,
            };
            let choices = sync::PgPlanChoices { reuse_publication: *reuse_publication };
            let mut plan = sync::plan_postgres_source_with(&cache, name, url, pw.clone(), scope, *snapshot, &choices).await?;
            plan.context_prefixes = context_prefix.clone();
            output::print_plan(&plan, cli.json);
            if !*yes {
                confirm("Create these on the server?", "nothing created")?;
            }
            let rec = sync::create_postgres_source(&cache, &plan, pw).await?;
            if !cli.json {
                println!("Added source {} (slot {}). Next: rowtrail sync {}", rec.name, plan.plan.slot, rec.name);
            }
        }
        Cmd::Source(SourceCmd::Add(AddCmd::Sqlite { name, path, tables, yes })) => {
            if !path.is_file() {
                let what = if path.is_dir() { "is a directory, not a SQLite database file" } else { "does not exist" };
                return Err(Failure { code: 2, message: format!("--path {}: {what}", path.display()) });
            }
            let cache = Cache::open(&cache_path)?;
            let plan = sync::plan_sqlite_source(&cache, name, path, tables.as_deref())?;
            if cli.json {
                println!("{}", serde_json::json!({"plan": plan}));
            } else {
                for line in plan.describe(name) {
                    println!("{}", output::sanitize(&line));
                }
            }
            if !yes {
                confirm("Create these in the database?", "nothing created")?;
            }
            let (rec, report) = sync::add_sqlite_source(&cache, name, path, tables.as_deref())?;
            if cli.json {
                println!("{}", serde_json::json!({"source": rec, "tables": report.tables}));
            } else {
                println!("Added source {} with capture triggers on {} table(s): {}", rec.name, report.tables.len(), output::sanitize(&report.tables.join(", ")));
                println!("Next: rowtrail sync {}", rec.name);
            }
        }
        Cmd::Source(SourceCmd::List) => {
            let cache = Cache::open(&cache_path)?;
            output::print_sources(&cache.sources()?, cli.json);
        }
        Cmd::Source(SourceCmd::Status { warn_mib }) => {
            let cache = Cache::open(&cache_path)?;
            let st = sync::source_statuses(&cache, password(&cli)?).await?;
            output::print_status(&st, *warn_mib * 1024 * 1024, cli.json);
        }
        Cmd::Source(SourceCmd::Refresh { name, yes }) => {
            let cache = Cache::open(&cache_path)?;
            let plan = sync::plan_sqlite_refresh(&cache, name)?;
            if cli.json {
                println!("{}", serde_json::json!({"plan": plan}));
            } else {
                for line in plan.describe() {
                    println!("{}", output::sanitize(&line));
                }
            }
            if !yes {
                confirm("Re-create these triggers?", "nothing changed")?;
            }
            let report = sync::refresh_sqlite_source(&cache, name)?;
            if cli.json {
                println!("{}", serde_json::json!({"source": name, "tables": report.tables}));
            } else {
                println!("Refreshed capture triggers on {} table(s): {}", report.tables.len(), output::sanitize(&report.tables.join(", ")));
            }
        }
        Cmd::Source(SourceCmd::Rm { name, drop_slot, yes }) => {
            let mut cache = Cache::open(&cache_path)?;
            let rec = cache.source(name)?;
            let events = sync::cached_events(&cache, name)?;
            let (left, _) = sync::left_on_server(&rec);
            if !*drop_slot && !left.is_empty() {
                eprintln!(
                    "warning: without --drop-slot these stay on the server: {}",
                    output::sanitize(&left.join(", "))
                );
            }
            if events > 0 && !*yes {
                eprintln!(
                    "Removing source {} deletes its {events} cached event(s); history the server no longer holds cannot be read again.",
                    output::sanitize(name)
                );
                confirm("Remove it and delete them?", "nothing removed")?;
            }
            let out = sync::remove_source(&mut cache, name, *drop_slot, password(&cli)?).await?;
            if cli.json {
                println!("{}", serde_json::json!({"removed": name, "dropped_upstream": drop_slot, "outcome": out}));
            } else {
                println!(
                    "Removed source {} and its {} cached event(s){}",
                    output::sanitize(name),
                    out.events_deleted,
                    if *drop_slot { ", and its objects on the server" } else { "" }
                );
            }
            if !out.left_on_server.is_empty() {
                eprintln!("Left on the server: {}", output::sanitize(&out.left_on_server.join(", ")));
                if !out.drop_sql.is_empty() {
                    eprintln!("The slot keeps holding WAL there until dropped. To drop them: {};", out.drop_sql.join("; "));
                }
            }
        }
        Cmd::Source(SourceCmd::Reset { name, yes }) => {
            let mut cache = Cache::open(&cache_path)?;
            // Asking a SQLite source for a slot is a usage mistake (2), not a failure to reset.
            let kind = cache.source(name)?.kind;
            if kind != "postgres" {
                return Err(Failure {
                    code: 2,
                    message: format!(
                        "source {}: only PostgreSQL sources have a slot to reset (it is a {kind} source)",
                        output::sanitize(name)
                    ),
                });
            }
            let pw = password(&cli)?;
            let plan = sync::plan_reset(&cache, name, pw.clone()).await?;
            output::print_reset_plan(&plan, cli.json);
            if !*yes {
                confirm("Re-create the slot?", "nothing changed")?;
            }
            let gap = sync::apply_reset(&mut cache, &plan, pw).await?;
            if cli.json {
                println!("{}", serde_json::json!({"reset": name, "gap": gap}));
            } else {
                println!(
                    "Re-created slot {}. The {} cached event(s) stay; changes between {} and {} are recorded as a gap. Next: rowtrail sync {}",
                    plan.slot,
                    plan.cached_events,
                    gap.from_position,
                    gap.to_position,
                    output::sanitize(name)
                );
            }
        }
        Cmd::Sync { name } | Cmd::Watch { name } => {
            let until = if matches!(cli.cmd, Cmd::Sync { .. }) { RunUntil::CaughtUp } else { RunUntil::Cancelled };
            let cache = Cache::open(&cache_path)?;
            let names: Vec<String> = match name {
                Some(n) => vec![cache.source(n)?.name],
                None => cache.sources()?.into_iter().map(|s| s.name).collect(),
            };
            if names.is_empty() {
                return Err(Failure { code: 1, message: "no sources yet: add one with `rowtrail source add pg|sqlite …` or try `rowtrail demo`".into() });
            }
            let follow = until == RunUntil::Cancelled;
            let reporter = progress::Reporter::new(std::io::stderr().is_terminal() && !cli.json, follow);
            for n in &names {
                let (stored, last) = stored_so_far(&cache, n)?;
                reporter.add_source(n, stored, last);
            }
            drop(cache);
            let cancel = CancellationToken::new();
            let c2 = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    c2.cancel();
                }
            });
            let opts = RunOptions { until, cancel, progress: Some(reporter.callback()) };
            reporter.start();
            let pw = password(&cli)?;
            let mut tasks = Vec::new();
            for n in names {
                let (path, opts, pw) = (cache_path.clone(), opts.clone(), pw.clone());
                tasks.push(tokio::spawn(async move {
                    let r = sync::run_source(&path, &n, pw, &opts).await;
                    (n, r)
                }));
            }
            let mut first_err: Option<Failure> = None;
            for t in tasks {
                let (n, r) = t.await.map_err(|e| Failure { code: 1, message: e.to_string() })?;
                reporter.clear();
                match r {
                    Ok(d) => {
                        if cli.json {
                            println!("{}", serde_json::json!({"source": n, "events": d.events, "transactions": d.transactions, "skipped": d.skipped, "position": d.position}));
                        } else {
                            println!("{n}: stored {} event(s) in {} transaction(s); position {}", d.events, d.transactions, if d.position.is_empty() { "-" } else { &d.position });
                        }
                    }
                    Err(e) => {
                        let f = Failure::from(e);
                        eprintln!("rowtrail: {}", output::sanitize(&f.message));
                        first_err.get_or_insert(Failure { code: f.code, message: format!("source {n} failed") });
                    }
                }
            }
            reporter.finish();
            if let Some(f) = first_err {
                return Err(f);
            }
        }
        Cmd::Events(a) => {
            let cache = Cache::open(&cache_path)?;
            let filter = EventFilter {
                source: a.source.clone(),
                table: a.table.clone(),
                op: match &a.op {
                    Some(o) => Some(Op::parse(o).ok_or_else(|| Failure { code: 2, message: format!("--op {o:?}: use insert, update, delete or truncate") })?),
                    None => None,
                },
                since_us: user_time("--since", a.since.as_deref())?,
                until_us: user_time("--until", a.until.as_deref())?,
                txid: a.txn.clone(),
                search: a.search.clone(),
                after_id: None,
                limit: a.limit,
            };
            // A name that matches nothing is a mistake to name, not an empty result.
            if let Some(s) = &a.source {
                cache.source(s)?;
            }
            if let Some(t) = &a.table {
                if cache.find_tables(a.source.as_deref(), t)?.is_empty() {
                    let within = a.source.as_deref().map(|s| format!(" in source {s:?}")).unwrap_or_default();
                    return Err(Failure { code: 1, message: format!("no captured table named {t:?}{within} (see `rowtrail source list`)") });
                }
            }
            if let Some(x) = &a.txn {
                if !cache.has_transaction(a.source.as_deref(), x)? {
                    let within = a.source.as_deref().map(|s| format!(" from source {s:?}")).unwrap_or_default();
                    return Err(Failure {
                        code: 1,
                        message: format!("no captured transaction {x:?}{within}: --txn takes the source's own transaction id (PostgreSQL: a number, as txid_current() shows it); `rowtrail events` lists them in its txid column"),
                    });
                }
            }
            if let Some(q) = &a.search {
                if q.is_empty() {
                    return Err(Failure { code: 2, message: "--search needs some text to look for".into() });
                }
                if rowtrail_core::cache::search::is_short(q) {
                    // The trigram index cannot find fewer than 3 characters: every value is read.
                    let n = cache.event_count()?;
                    if n >= 100_000 {
                        eprintln!("rowtrail: {q:?} is shorter than 3 characters, which the search index cannot serve; reading all {n} events instead (seconds per million)…", q = output::sanitize(q));
                    }
                } else {
                    // The search indexes what is new first; after a large capture that takes a while.
                    let pending = rowtrail_core::cache::search::pending(cache.conn())?;
                    if pending >= 100_000 {
                        eprintln!("rowtrail: indexing {pending} captured events for value search (once; later searches only index what is new)…");
                    }
                }
            }
            output::print_events(&cache, &filter, cli.json)?;
        }
        Cmd::History { table, key, source, full } => {
            let cache = Cache::open(&cache_path)?;
            // A --source that matches nothing is named, not reported as a missing table.
            if let Some(s) = source {
                cache.source(s)?;
            }
            let h = history::record_history(&cache, source.as_deref(), table, key)?;
            let gaps = cache.history_gaps(&h)?;
            output::print_history(&h, &gaps, cli.json, *full);
        }
        Cmd::Diff { table, key, from, to, source, full } => {
            let cache = Cache::open(&cache_path)?;
            // A --source that matches nothing is named, not reported as a missing table.
            if let Some(s) = source {
                cache.source(s)?;
            }
            let h = history::record_history(&cache, source.as_deref(), table, key)?;
            let changes = h.compare(*from, *to)?;
            output::print_compare(&h, *from, *to, &changes, cli.json, *full);
        }
        Cmd::Demo => {
            let (info, d) = refresh_demo(&ws).await?;
            output::print_demo(&info, &d, &ws, cli.json);
        }
        Cmd::Serve(a) => serve(&ws, a, cli.json).await?,
        Cmd::Completions { .. } | Cmd::PackageFiles { .. } => {} // handled in `run`
    }
    Ok(())
}

/// What the cache holds for source `name` before a run: its events and the commit time of
/// the newest (for the status line of `sync`/`watch`).
fn stored_so_far(cache: &Cache, name: &str) -> Result<(u64, Option<i64>), Failure> {
    let (n, last): (i64, Option<i64>) = cache
        .conn()
        .query_row(
            "SELECT coalesce(sum(t.event_count), 0), max(t.committed_us)
             FROM transactions t JOIN sources s ON s.id = t.source_id WHERE s.name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(rowtrail_core::cache::CacheError::from)?;
    Ok((u64::try_from(n).unwrap_or(0), last))
}

/// Creates (or replaces) the demo database and its source, and captures it.
async fn refresh_demo(ws: &Workspace) -> Result<(rowtrail_core::demo::DemoInfo, rowtrail_core::cache::Durable), Failure> {
    let cache_path = ws.cache_path();
    let info = rowtrail_core::demo::create(&ws.demo_db_path())?;
    let mut cache = Cache::open(&cache_path)?;
    if cache.source("demo").is_ok() {
        cache.remove_source("demo")?;
    }
    sync::add_sqlite_source(&cache, "demo", &info.path, None)?;
    let opts = RunOptions { until: RunUntil::CaughtUp, cancel: CancellationToken::new(), progress: None };
    let d = sync::run_source(&cache_path, "demo", None, &opts).await?;
    Ok((info, d))
}

/// The port `rowtrail serve` tries first.
const DEFAULT_SERVE_PORT: u16 = 7420;

/// `rowtrail serve`: the UI and API on 127.0.0.1 until Ctrl-C.
async fn serve(ws: &Workspace, a: &ServeArgs, as_json: bool) -> Result<(), Failure> {
    if a.demo {
        let (info, d) = refresh_demo(ws).await?;
        if !as_json {
            eprintln!("Demo: captured {} events from {}", d.events, info.path.display());
        }
    }
    let api = rowtrail_core::api::Api::open(ws).map_err(|e| Failure { code: 1, message: e.message })?;
    let ui_dir = rowtrail_web::find_ui_dir(a.ui_dir.as_deref());
    if let Some(d) = &ui_dir {
        if !d.join("index.html").is_file() {
            return Err(Failure { code: 2, message: format!("--ui-dir {}: no index.html there; build the UI with: cd ui && npm ci && npm run build", d.display()) });
        }
    }
    let (token, origin) = rowtrail_web::workspace_token(ws.dir(), a.new_token)?;
    let bind = |port: u16| {
        rowtrail_web::WebServer::bind(api.clone(), rowtrail_web::WebOptions { port, ui_dir: ui_dir.clone(), token: Some(token.clone()) })
    };
    let server = match a.port {
        Some(p) => bind(p).await?,
        None => match bind(DEFAULT_SERVE_PORT).await {
            Ok(s) => s,
            Err(_) => bind(0).await?,
        },
    };
    let url = server.url();
    api.warm_up();
    let started = api.resume_watching().await.map_err(|e| Failure { code: 1, message: e.message })?;
    if as_json {
        println!("{}", serde_json::json!({"url": url, "port": server.local_addr().port(), "ui_dir": ui_dir, "cache": ws.cache_path(), "watching": started.iter().map(|t| &t.source).collect::<Vec<_>>(), "token_kept": origin == rowtrail_web::TokenOrigin::Kept}));
    } else {
        println!("Rowtrail is serving {} on", ws.dir().display());
        println!();
        println!("    {url}");
        println!();
        if ui_dir.is_none() {
            println!("The UI is not built, so that page says how to build it: cd ui && npm ci && npm run build");
        }
        if !started.is_empty() {
            let names: Vec<String> = started.iter().map(|t| output::sanitize(&t.source)).collect();
            println!("Watching: {}", names.join(", "));
        }
        println!("Only this machine can connect, and only with the token in the address. Ctrl-C stops.");
        if origin == rowtrail_web::TokenOrigin::Kept {
            println!("The token is the one this workspace kept ({}); `--new-token` makes another.", ws.dir().join(rowtrail_web::TOKEN_FILE).display());
        }
    }
    out::flush();
    if !a.no_open {
        open_browser(&url);
    }
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    api.shutdown().await;
    if !as_json {
        eprintln!("Stopped.");
    }
    Ok(())
}

/// Opens `url` in the desktop's browser, when there is a desktop; failures are silent (the
/// address is printed anyway).
fn open_browser(url: &str) {
    let cmd = if cfg!(target_os = "macos") {
        Some(("open", vec![url.to_string()]))
    } else if cfg!(windows) {
        Some(("rundll32", vec!["url.dll,FileProtocolHandler".to_string(), url.to_string()]))
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
        Some(("xdg-open", vec![url.to_string()]))
    } else {
        None
    };
    if let Some((program, args)) = cmd {
        let _ = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}
