//! The `rowtrail` CLI on the built-in demo (SQLite: no PostgreSQL needed), as a user or a
//! script meets it: output into a closed pipe, mistakes in arguments and their exit codes
//! (README: 1 error, 2 usage), short value searches, `watch`'s status while idle, and what
//! the `.deb` ships besides the desktop app (the CLI, its man pages and completions).
//!
//! Runs the built binary (`cargo build -p rowtrail-cli` first).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rowtrail_tests::{rowtrail_bin, temp_data_dir, workspace_root};
use serde_json::Value;

/// Runs `cmd` to its end, capturing stdout and stderr.
fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("the program runs")
}

fn run(data: &Path, args: &[&str]) -> Output {
    output(
        Command::new(rowtrail_bin())
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .env("RUST_BACKTRACE", "1"),
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A new workspace holding the demo (600 events).
fn demo() -> tempfile::TempDir {
    let dir = temp_data_dir();
    let out = run(dir.path(), &["demo"]);
    assert!(out.status.success(), "demo: {}", text(&out.stderr));
    dir
}

/// Runs SQL on the demo database with the sqlite3 program (installed for the e2e tests too:
/// .ci/install-deps), as an application would write to it.
fn demo_sql(ws: &Path, sql: &str) {
    let mut child = Command::new("sqlite3")
        .arg(ws.join("demo.sqlite"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sqlite3 runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(sql.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "sqlite3: {}", text(&out.stderr));
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_with_141() {
    let ws = demo();
    // Make shp 1007's history and a diff of it larger than a pipe's buffer (64 KiB), so the
    // program is still writing when the reader goes away, however the processes are scheduled.
    let mut sql = String::new();
    for i in 0..600 {
        sql.push_str(&format!(
            "UPDATE shp SET st = 'state {i} {}' WHERE id = 1007;",
            "x".repeat(100)
        ));
    }
    // 100,000 characters in one value: a diff of it alone exceeds the buffer.
    sql.push_str("UPDATE shp SET st = replace(hex(zeroblob(50000)), '00', 'yy') WHERE id = 1007;");
    demo_sql(ws.path(), &sql);
    let out = run(ws.path(), &["sync"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    for args in [
        &["--json", "history", "shp", "1007"][..],
        &["history", "shp", "1007"],
        &[
            "--json", "diff", "shp", "1007", "--from", "1", "--to", "608",
        ],
        &[
            "diff", "shp", "1007", "--from", "1", "--to", "608", "--full",
        ],
        &["--json", "events"],
        &["events"],
    ] {
        let mut child = Command::new(rowtrail_bin())
            .arg("--data-dir")
            .arg(ws.path())
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rowtrail starts");
        // As `| head -c 100` does: read what it needs, then go away.
        let mut first = [0u8; 100];
        let mut stdout = child.stdout.take().unwrap();
        stdout.read_exact(&mut first).expect("100 bytes of output");
        drop(stdout);
        let out = child.wait_with_output().expect("rowtrail ends");
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(141),
            "{args:?}: 128 + SIGPIPE, as a shell reports it; stderr: {err}"
        );
        assert!(
            err.is_empty(),
            "{args:?}: nothing on stderr (no panic, no backtrace): {err}"
        );
    }
}

#[test]
fn mistakes_are_named_and_exit_with_the_readmes_codes() {
    let ws = demo();
    let d = ws.path();
    // (arguments, exit code, what the message must name)
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["events", "--since", "yesterday"],
            2,
            "--since \"yesterday\"",
        ),
        (&["events", "--until", "2026-13-45"], 2, "--until"),
        (&["events", "--op", "upd"], 2, "--op \"upd\""),
        (&["events", "--search", ""], 2, "--search"),
        (&["events", "--txn", "abc"], 1, "transaction \"abc\""),
        (&["events", "--source", "nosuch"], 1, "\"nosuch\""),
        (
            &["events", "--source", "nosuch", "--txn", "231"],
            1,
            "\"nosuch\"",
        ),
        (&["events", "--table", "nosuch"], 1, "\"nosuch\""),
        (&["history", "shp", "1007", "2"], 2, "the key has 1 column"),
        (
            &["diff", "shp", "1007", "--from", "1", "--to", "99"],
            2,
            "no version 99",
        ),
        (&["history", "nosuch", "1"], 1, "\"nosuch\""),
        (
            &["history", "shp", "1007", "--source", "nosuch"],
            1,
            "source named \"nosuch\"",
        ),
        (
            &[
                "diff", "shp", "1007", "--from", "1", "--to", "2", "--source", "nosuch",
            ],
            1,
            "source named \"nosuch\"",
        ),
        (&["sync", "nosuch"], 1, "\"nosuch\""),
        (&["source", "reset", "demo", "--yes"], 2, "only PostgreSQL sources"),
        (
            &["source", "add", "pg", "x", "--url", "mysql://db", "--yes"],
            2,
            "--url",
        ),
        (
            &["source", "add", "sqlite", "x", "--path", "/no/such.db"],
            2,
            "--path /no/such.db",
        ),
        (&["events", "--limit", "many"], 2, "--limit"),
    ];
    for (args, code, names) in cases {
        let out = run(d, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {err}");
        assert!(err.contains(names), "{args:?} names {names:?}: {err}");
        assert!(
            !err.contains("No events match"),
            "{args:?} is a mistake, not an empty result: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?} prints nothing on stdout");
    }
    // A transaction that exists lists its events; a real txid with a filter that leaves
    // nothing is an empty result, not an error.
    let out = run(d, &["events", "--txn", "231"]);
    assert!(
        out.status.success() && !out.stdout.is_empty(),
        "{}",
        text(&out.stderr)
    );
    let out = run(d, &["events", "--txn", "231", "--op", "truncate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("No events match"));
}

#[test]
fn a_mistyped_data_dir_is_not_made_into_an_empty_workspace() {
    let ws = demo();
    let typo = ws.path().join("demo-workspcae");
    for args in [
        &["events"][..],
        &["source", "list"],
        &["source", "status"],
        &["source", "rm", "demo"],
        &["sync"],
        &["watch"],
        &["history", "shp", "1007"],
    ] {
        let out = run(&typo, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("does not exist") && err.contains("demo-workspcae"),
            "{args:?}: {err}"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
    // A failed first `source add` leaves nothing behind either.
    let out = run(
        &typo,
        &[
            "source",
            "add",
            "pg",
            "x",
            "--url",
            "postgres://u@127.0.0.1:1/db",
            "--yes",
        ],
    );
    assert!(!out.status.success());
    assert!(
        !typo.exists(),
        "a failed source add left {}",
        typo.display()
    );
    // The commands that may create a workspace still do.
    let out = run(&typo, &["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&typo, &["events", "--limit", "1"]);
    assert!(
        out.status.success() && !out.stdout.is_empty(),
        "{}",
        text(&out.stderr)
    );
}

/// Events whose before or after image holds a value containing `q`, ignoring case, found by
/// reading every event: what a value search must return.
fn expected_matches(all: &[Value], q: &str) -> Vec<i64> {
    let q = q.to_lowercase();
    let has = |img: &Value| {
        img.as_object().is_some_and(|m| {
            m.values()
                .any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(&q)))
        })
    };
    all.iter()
        .filter(|e| has(&e["before"]) || has(&e["after"]))
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

fn ids(out: &Output) -> Vec<i64> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON line")["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

#[test]
fn short_searches_read_the_values_and_agree_with_long_ones() {
    let ws = demo();
    let d = ws.path();
    let all: Vec<Value> = text(&run(d, &["--json", "events"]).stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(all.len(), 600);
    // Two letters, one letter, a quote (escaped in the stored JSON) and text from a long
    // search: each finds exactly the events with a value containing it, in any case.
    for q in ["Ro", "rO", "x", "\"", "Rotterdam", "DE"] {
        let want = expected_matches(&all, q);
        let got = ids(&run(d, &["--json", "events", "--search", q]));
        assert_eq!(got, want, "--search {q:?}");
        if q.chars().count() < 3 {
            assert!(
                !got.is_empty() || q == "\"",
                "--search {q:?} finds something in the demo"
            );
        }
    }
    // --limit counts matches, not the events read to find them.
    let want = expected_matches(&all, "ro");
    let got = ids(&run(
        d,
        &["--json", "events", "--search", "ro", "--limit", "3"],
    ));
    assert_eq!(got, want[..3]);
    // Other filters still apply.
    let got = ids(&run(
        d,
        &["--json", "events", "--search", "ro", "--table", "cust"],
    ));
    let want: Vec<i64> = all
        .iter()
        .filter(|e| e["table"] == "cust" && want.contains(&e["id"].as_i64().unwrap()))
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn an_idle_watch_says_it_is_live_and_shows_each_change() {
    let ws = demo();
    let mut child = Command::new(rowtrail_bin())
        .arg("--data-dir")
        .arg(ws.path())
        .arg("watch")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch starts");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |want: &dyn Fn(&str) -> bool| {
        let until = Instant::now() + Duration::from_secs(15);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(l) => {
                    seen.push(l.clone());
                    if want(&l) {
                        return l;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no such status line on stderr; saw: {seen:#?}");
    };
    // Nothing happens in the demo, yet watch says where it stands (stderr is not a terminal:
    // plain lines).
    let idle = wait_for(&|l| l.starts_with("demo: live, 600 events, last change "));
    assert!(idle.ends_with(" UTC"), "{idle}");

    demo_sql(ws.path(), "UPDATE shp SET st = 'X' WHERE id = 1007");
    let changed = wait_for(&|l| l.starts_with("demo: live, 601 events, last change "));
    assert_ne!(changed, idle, "the time of the last change moved on");
    let _ = child.kill();
    let _ = child.wait();
}

/// `/usr/share/man/man1` etc. → the file the package takes it from, per tauri.conf.json.
fn deb_files() -> serde_json::Map<String, Value> {
    let conf_path = workspace_root().join("src-tauri/tauri.conf.json");
    let conf: Value = serde_json::from_str(&std::fs::read_to_string(&conf_path).unwrap()).unwrap();
    assert_eq!(
        conf["mainBinaryName"], "rowtrail-desktop",
        "Tauri ships the desktop app as /usr/bin/rowtrail-desktop"
    );
    assert_eq!(
        conf["build"]["beforeBundleCommand"]["script"], "./scripts/package-files.sh",
        "the CLI and its files are built before bundling"
    );
    conf["bundle"]["linux"]["deb"]["files"]
        .as_object()
        .expect("bundle.linux.deb.files")
        .clone()
}

#[test]
fn the_deb_ships_the_cli_its_man_pages_and_completions() {
    let files = deb_files();
    let from = |dest: &str| {
        files
            .get(dest)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("the .deb has no {dest}: {files:?}"))
    };
    // What src-tauri/scripts/package-files.sh builds (paths relative to tauri.conf.json).
    assert_eq!(from("/usr/bin/rowtrail"), "../target/release/rowtrail");
    let script =
        std::fs::read_to_string(workspace_root().join("src-tauri/scripts/package-files.sh"))
            .unwrap();
    assert!(
        script.contains("cargo build --release --locked -p rowtrail-cli"),
        "{script}"
    );
    assert!(
        script.contains("target/release/rowtrail package-files target/release/package-files"),
        "{script}"
    );

    // Generate them as the script does (with the debug build), then resolve every other
    // entry of the map against the result.
    let out = temp_data_dir();
    let generated = out.path().join("package-files");
    let out = output(
        Command::new(rowtrail_bin())
            .arg("package-files")
            .arg(&generated),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let resolve = |dest: &str| {
        let src = from(dest);
        let rel = src
            .strip_prefix("../target/release/package-files/")
            .unwrap_or_else(|| {
                panic!("{dest} comes from {src}, not from the generated package files")
            });
        generated.join(rel)
    };
    assert_eq!(files.len(), 5, "{files:?}");

    let man = resolve("/usr/share/man/man1");
    let mut pages: Vec<String> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for page in [
        "rowtrail.1",
        "rowtrail-events.1",
        "rowtrail-history.1",
        "rowtrail-diff.1",
        "rowtrail-watch.1",
        "rowtrail-source-add-pg.1",
        "rowtrail-serve.1",
    ] {
        assert!(
            pages.iter().any(|p| p == page),
            "no man page {page}: {pages:?}"
        );
    }
    assert!(
        pages
            .iter()
            .all(|p| p.starts_with("rowtrail") && p.ends_with(".1")),
        "{pages:?}"
    );
    assert!(
        !pages
            .iter()
            .any(|p| p.contains("package-files") || p.contains("help")),
        "no page for hidden or help commands: {pages:?}"
    );
    let main_page = std::fs::read_to_string(man.join("rowtrail.1")).unwrap();
    for want in [
        ".TH rowtrail 1",
        ".SH SUBCOMMANDS",
        "rowtrail\\-events(1)",
        ".SH \"EXIT STATUS\"",
        "141",
        "ROWTRAIL_DATA_DIR",
    ] {
        assert!(
            main_page.contains(want),
            "rowtrail.1 lacks {want:?}:\n{main_page}"
        );
    }
    let events_page = std::fs::read_to_string(man.join("rowtrail-events.1")).unwrap();
    assert!(
        events_page.contains("\\-\\-search") && events_page.contains("\\-\\-txn"),
        "{events_page}"
    );

    // Bash completes subcommands and options from the file the package installs.
    let bash = resolve("/usr/share/bash-completion/completions/rowtrail");
    // As bash calls it: the words so far, and the command, current and previous word.
    let complete = |words: &str, cword: usize| {
        let script = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; \
             _rowtrail rowtrail \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[*]}}\"",
            bash.display()
        );
        let out = output(Command::new("bash").arg("-c").arg(script));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("rowtrail ev", 1), "events");
    assert_eq!(complete("rowtrail events --se", 2), "--search");
    let all = complete("rowtrail ''", 1);
    assert!(
        all.contains("history") && !all.contains("package-files"),
        "hidden commands are not offered: {all}"
    );
    let zsh =
        std::fs::read_to_string(resolve("/usr/share/zsh/vendor-completions/_rowtrail")).unwrap();
    assert!(
        zsh.starts_with("#compdef rowtrail") && zsh.contains("--search"),
        "{zsh}"
    );
    let fish = std::fs::read_to_string(resolve(
        "/usr/share/fish/vendor_completions.d/rowtrail.fish",
    ))
    .unwrap();
    assert!(
        fish.contains("complete -c rowtrail")
            && fish.contains("-l search")
            && !fish.contains("package-files")
    );

    // `rowtrail completions SHELL` prints the same scripts, for installs without the package.
    let out = output(Command::new(rowtrail_bin()).args(["completions", "bash"]));
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), std::fs::read_to_string(&bash).unwrap());
}
