//! The `rowtrail` CLI on a SQLite source of its own, as a user meets it: `source add sqlite`
//! shows what it creates in the database and asks first, the ADD COLUMN warning names
//! `source refresh`, which does what it says, and changes without transaction numbers are
//! called statement groups, never transactions.
//!
//! Runs the built binary (`cargo build -p rowtrail-cli` first).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use rowtrail_tests::{rowtrail_bin, temp_data_dir};
use rusqlite::Connection;
use serde_json::Value;

/// Runs `rowtrail --data-dir data ARGS` with stdin not a terminal.
fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(rowtrail_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("rowtrail runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = run(data, args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout) + &text(&out.stderr)
}

fn objects(conn: &Connection) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE name LIKE '\\_rowtrail\\_%' ESCAPE '\\'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn add_asks_first_refresh_captures_new_columns_and_statement_groups_say_so() {
    let dir = temp_data_dir();
    let ws = dir.path().join("ws");
    let db = dir.path().join("app.db");
    let app = Connection::open(&db).unwrap();
    app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);")
        .unwrap();
    let db_arg = db.to_str().unwrap();

    // Without --yes (and no terminal to ask on): the plan, nothing created, exit 2.
    let out = run(&ws, &["source", "add", "sqlite", "app", "--path", db_arg]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(plan.contains("create the tables _rowtrail_log"), "{plan}");
    assert!(plan.contains("on 1 table(s): t"), "{plan}");
    assert!(text(&out.stderr).contains("--yes"), "{}", text(&out.stderr));
    assert_eq!(objects(&app), 0, "nothing was created in the database");
    ok(
        &ws,
        &["source", "add", "sqlite", "app", "--path", db_arg, "--yes"],
    );
    assert!(objects(&app) > 0);

    // An added column is not captured until the triggers are refreshed, and sync says how.
    app.execute_batch("ALTER TABLE t ADD COLUMN b TEXT; INSERT INTO t VALUES (1, 'x', 'y');")
        .unwrap();
    let said = ok(&ws, &["sync", "app"]);
    assert!(said.contains("`rowtrail source refresh app`"), "{said}");
    let out = run(&ws, &["source", "refresh", "app"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("t: now also captures b"),
        "{}",
        text(&out.stdout)
    );
    ok(&ws, &["source", "refresh", "app", "--yes"]);
    app.execute_batch("UPDATE t SET b = 'z' WHERE id = 1;")
        .unwrap();
    ok(&ws, &["sync", "app"]);
    let history = ok(&ws, &["history", "t", "1"]);
    assert!(history.contains("b: y → z"), "{history}");

    // Neither change was numbered by the application: statement groups, and said so.
    assert!(history.contains("statement group"), "{history}");
    assert!(!history.contains("txid"), "{history}");
    let events = ok(&ws, &["events"]);
    assert!(events.lines().all(|l| l.contains("(stmt)")), "{events}");
    let json = ok(&ws, &["--json", "events"]);
    let first: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["grouping"], "statement");
}
