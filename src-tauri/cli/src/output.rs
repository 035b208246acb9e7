//! Human and JSON rendering. Every value from a source passes through [`sanitize`], so data
//! from a production database can never drive the terminal.

use std::io::Write;

use rowtrail_core::cache::query::{EventFilter, EventRow};
use rowtrail_core::cache::notes::HistoryGap;
use rowtrail_core::cache::{Cache, CacheError, Durable, SourceRecord};
use rowtrail_core::demo::DemoInfo;
use rowtrail_core::diff::{render_plain_with, render_value, sanitize_for_terminal, RenderOptions, ValueDiff};
use rowtrail_core::event::{Cell, Op};
use rowtrail_core::history::{FieldChange, History};
use rowtrail_core::sync::{PgPlan, ResetPlan, SourceStatus};
use rowtrail_core::time_fmt::format_us;
use rowtrail_core::workspace::Workspace;
use serde_json::json;

/// Makes text safe to print: control characters and bidi overrides become visible escapes.
pub fn sanitize(s: &str) -> String {
    sanitize_for_terminal(s).into_owned()
}

/// Prints the setup plan before anything is created.
pub fn print_plan(p: &PgPlan, as_json: bool) {
    if as_json {
        println!("{}", json!({"plan": p}));
        return;
    }
    println!("Source {} on {}", sanitize(&p.name), sanitize(&p.url));
    println!("Will create on the server:");
    println!("  replication slot   {} (pgoutput)", p.plan.slot);
    let created = p.plan.created_publications();
    if created.contains(&p.plan.publication) {
        match &p.plan.schema_publication {
            Some(schema) => println!("  publication        {} for schema {}", p.plan.publication, sanitize(schema)),
            None => println!("  publication        {} for {} table(s)", p.plan.publication, p.plan.tables.len()),
        }
    }
    if let Some(ins) = p.plan.insert_only_publication.as_ref().filter(|i| created.contains(i)) {
        println!("  publication        {ins} for {} table(s), inserts only", p.plan.insert_only_tables.len());
    }
    println!("Tables:");
    for t in &p.plan.tables {
        println!("  {}.{}  (replica identity {})", sanitize(&t.schema), sanitize(&t.name), t.replica_identity);
    }
    for t in &p.plan.insert_only_tables {
        println!("  {}.{}  (no replica identity: inserts only)", sanitize(&t.schema), sanitize(&t.name));
    }
    for r in &p.plan.reused_publications {
        println!("Reuses the existing publication {}", sanitize(&r.describe()));
    }
    if let Some(schema) = &p.plan.schema_publication {
        println!("  (the publication follows schema {}: tables created there later are captured too)", sanitize(schema));
    }
    for w in &p.plan.warnings {
        println!("warning: {}", sanitize(w));
    }
    println!("SQL:");
    for s in &p.plan.statements {
        println!("  {};", sanitize(s));
    }
}

/// Prints the configured sources.
pub fn print_sources(sources: &[SourceRecord], as_json: bool) {
    if as_json {
        for s in sources {
            println!("{}", json!(s));
        }
        return;
    }
    if sources.is_empty() {
        println!("No sources. Add one with `rowtrail source add pg NAME --url …` or `rowtrail source add sqlite NAME --path …`, or run `rowtrail demo`.");
    }
    for s in sources {
        let target = s.config.get("url").or_else(|| s.config.get("path")).and_then(|v| v.as_str()).unwrap_or("");
        println!("{}  {}  {}  position {}", sanitize(&s.name), s.kind, sanitize(target), s.checkpoint.as_deref().unwrap_or("-"));
    }
}

/// Prints source and slot health: each source with its position and what to do about its
/// slot, then each server's `rowtrail_%` slots once, whichever sources share that server.
pub fn print_status(st: &[SourceStatus], warn_bytes: i64, as_json: bool) {
    if as_json {
        for s in st {
            println!("{}", json!(s));
        }
        return;
    }
    let mib = |b: Option<i64>| b.map_or("-".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0));
    let mut servers: Vec<(&str, &SourceStatus)> = Vec::new();
    for s in st {
        let own = s.source.config.get("slot").and_then(|v| v.as_str());
        println!(
            "{} ({}): cached up to {}{}",
            sanitize(&s.source.name),
            s.source.kind,
            s.source.checkpoint.as_deref().unwrap_or("-"),
            match (own, &s.server) {
                (Some(slot), Some(server)) => format!("; slot {slot} on {}", sanitize(server)),
                _ => String::new(),
            }
        );
        if let Some(e) = &s.error {
            println!("  cannot reach the server: {}", sanitize(e));
        }
        if let Some(a) = &s.advice {
            println!("  error: {}", sanitize(a));
        }
        for p in &s.problems {
            println!("  warning: {}", sanitize(p));
        }
        if let Some(server) = &s.server {
            if s.error.is_none() && !servers.iter().any(|(n, _)| *n == server.as_str()) {
                servers.push((server.as_str(), s));
            }
        }
    }
    for (server, s) in servers {
        println!();
        println!("Rowtrail slots on {}:", sanitize(server));
        if s.slots.is_empty() {
            println!("  (none)");
        }
        for slot in &s.slots {
            println!(
                "  {}  {}  wal {}  retained {}  lag {}  {}",
                slot.slot,
                if slot.active { "active" } else { "inactive" },
                slot.wal_status.as_deref().unwrap_or("-"),
                mib(slot.retained_bytes),
                mib(slot.lag_bytes),
                match &slot.used_by {
                    Some(n) => format!("used by {}", sanitize(n)),
                    None => "orphaned: no source of this workspace uses it".to_string(),
                }
            );
            let big = slot.retained_bytes.unwrap_or(0) > warn_bytes;
            match (&slot.used_by, slot.active) {
                (Some(n), _) if big && slot.wal_status.as_deref() != Some("lost") => println!(
                    "    warning: it retains {} of WAL on the server: run `rowtrail sync {}`, or remove the source with `rowtrail source rm {} --drop-slot`",
                    mib(slot.retained_bytes),
                    sanitize(n),
                    sanitize(n)
                ),
                (None, false) => println!(
                    "    it retains {} of WAL on the server. If no other Rowtrail cache uses it (a source removed without --drop-slot), drop it: SELECT pg_drop_replication_slot('{}')",
                    mib(slot.retained_bytes),
                    slot.slot
                ),
                (None, true) if big => println!(
                    "    warning: it retains {} of WAL; a client streams from it now (another Rowtrail cache)",
                    mib(slot.retained_bytes)
                ),
                _ => {}
            }
        }
    }
}

/// Prints what `source reset` will do before it does it.
pub fn print_reset_plan(p: &ResetPlan, as_json: bool) {
    if as_json {
        println!("{}", json!({"plan": p}));
        return;
    }
    let why = match p.slot_state.as_str() {
        "missing" => "no longer exists on the server",
        "lost" => "was invalidated by the server",
        _ => "is ahead of the cache (another client acknowledged changes)",
    };
    println!("Source {} on {}: slot {} {why}.", sanitize(&p.name), sanitize(&p.url), p.slot);
    println!(
        "Reset keeps the {} cached event(s) and starts a new slot at the server's current position; the changes since {} cannot be read and are recorded as a gap, shown in every history that spans it.",
        p.cached_events, p.from_position
    );
    println!("SQL:");
    for s in &p.statements {
        println!("  {};", sanitize(s));
    }
}

/// Text for a one-line listing: what [`sanitize`] does (which escapes `\r` and other
/// controls), plus line breaks and tabs as `\n` and `\t`, so a value holding them cannot
/// break the line (or fake another).
pub fn one_line(s: &str) -> String {
    let s = sanitize(s);
    if !s.contains(['\n', '\t']) {
        return s;
    }
    s.replace('\n', "\\n").replace('\t', "\\t")
}

fn key_text(e: &EventRow) -> String {
    e.key
        .iter()
        .map(|(k, v)| format!("{}={}", one_line(k), v.as_deref().map_or("NULL".into(), one_line)))
        .collect::<Vec<_>>()
        .join(",")
}

fn context_text(ctx: &serde_json::Map<String, serde_json::Value>) -> String {
    ctx.iter()
        .map(|(k, v)| format!("{}={}", one_line(k), one_line(&v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Streams events, one line (or JSON line) each.
pub fn print_events(cache: &Cache, filter: &EventFilter, as_json: bool) -> Result<(), CacheError> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut n = 0u64;
    let res = cache.for_each_event(filter, |e| {
        n += 1;
        let line = if as_json {
            e.to_json().to_string()
        } else {
            let changed = e.changed_columns();
            sanitize(&format!(
                "#{:<6} {}  {:<8} {:<7} {:<8} {}.{}  {}{}{}",
                e.id,
                format_us(e.committed_us),
                e.source,
                txid_text(&e),
                e.op,
                e.schema,
                e.table,
                key_text(&e),
                if changed.is_empty() { String::new() } else { format!("  [{}]", changed.join(", ")) },
                if e.context.is_empty() { String::new() } else { format!("  {}", context_text(&e.context)) }
            ))
        };
        if let Err(e) = writeln!(out, "{line}") {
            crate::out::failed(e);
        }
        Ok(())
    });
    res?;
    if let Err(e) = out.flush() {
        crate::out::failed(e);
    }
    if n == 0 && !as_json {
        eprintln!("No events match. `rowtrail sync` reads new changes; `rowtrail source list` shows sources.");
    }
    Ok(())
}

fn change_json(c: &FieldChange) -> serde_json::Value {
    json!(c)
}

/// Prints `column: rendered`, continuation lines indented under it.
fn print_field(indent: &str, column: &str, mark: &str, rendered: &str) {
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("");
    println!("{indent}{}{mark}: {first}", one_line(column));
    for l in lines {
        println!("{indent}    {l}");
    }
}

fn print_changes(changes: &[FieldChange], indent: &str, opts: RenderOptions) -> bool {
    let mut elided = false;
    for c in changes {
        let mut s = String::new();
        if let (ValueDiff::Set { new }, false) = (&c.diff, c.inferred) {
            // A value appearing (an insert, an added column) reads best as the value itself.
            elided |= render_value(Some(new), opts, &mut s);
            print_field(indent, &c.column, "", &s);
            continue;
        }
        elided |= render_plain_with(&c.diff, opts, &mut s);
        let mark = if c.inferred { " (inferred)" } else { "" };
        print_field(indent, &c.column, mark, &s);
    }
    elided
}

/// Prints a whole record state, every column in table order (NULL as `(null)`, a value
/// neither sent nor inferable as `(unknown)`): what an insert created.
fn print_image(e: &EventRow, img: &[Cell], indent: &str, opts: RenderOptions) -> bool {
    let mut elided = false;
    for (col, cell) in e.columns.iter().zip(img) {
        let mut s = String::new();
        let mark = if e.inferred.contains(&col.name) { " (inferred)" } else { "" };
        match cell {
            Cell::Missing => s.push_str("(unknown)"),
            Cell::Null => elided |= render_value(None, opts, &mut s),
            Cell::Text(t) => elided |= render_value(Some(t), opts, &mut s),
        }
        print_field(indent, &col.name, mark, &s);
    }
    elided
}

/// Prints the removed record of a delete: each column's last value, from the delete's
/// changes (`deleted` diffs), `(unknown)` where no version holds it.
fn print_removed(changes: &[FieldChange], indent: &str, opts: RenderOptions) -> bool {
    let mut elided = false;
    for c in changes {
        let mut s = String::new();
        if c.unknown {
            s.push_str("(unknown)");
        } else {
            elided |= render_value(c.old.as_deref(), opts, &mut s);
        }
        let mark = if c.inferred { " (inferred)" } else { "" };
        print_field(indent, &c.column, mark, &s);
    }
    elided
}

/// The note after output that left long unchanged text out.
const ELIDED_NOTE: &str = "(long values were shortened around their changes; --full shows them whole)";

/// Prints a record's versions, newest first. Without `full`, long values are shortened
/// around their changes.
pub fn print_history(h: &History, gaps: &[HistoryGap], as_json: bool, full: bool) {
    let gap_after = |n: usize| gaps.iter().filter(move |g| g.after_version == n);
    if as_json {
        for v in h.versions.iter().rev() {
            let mut o = v.event.to_json();
            if let Some(m) = o.as_object_mut() {
                m.insert("version".into(), v.number.into());
                m.insert("changes".into(), v.changes.iter().map(change_json).collect());
                // Only where the source's stream has a gap after this version, so other
                // lines keep their shape.
                if let Some(g) = gap_after(v.number).next() {
                    m.insert("gap_after".into(), g.to_json());
                }
            }
            println!("{o}");
        }
        return;
    }
    let opts = RenderOptions { elide: !full };
    let mut elided = false;
    println!("{} — {} version(s), newest first", one_line(&h.label()), h.versions.len());
    for v in h.versions.iter().rev() {
        let e = &v.event;
        for g in gap_after(v.number) {
            println!();
            println!("  ~~ {} ~~", sanitize(&g.describe()));
        }
        println!();
        println!(
            "v{}  {}  {}  {} {} at {}  source {}{}",
            v.number,
            format_us(e.committed_us),
            e.op,
            if e.grouping.is_some() { "statement group" } else { "txid" },
            one_line(&e.txid),
            one_line(&e.position),
            one_line(&e.source),
            if e.context.is_empty() { String::new() } else { format!("  {}", context_text(&e.context)) }
        );
        if let Some(old) = &e.old_key {
            let was: Vec<String> = e
                .key
                .iter()
                .zip(old)
                .map(|((k, _), v)| format!("{}={}", one_line(k), v.as_deref().map_or("NULL".into(), one_line)))
                .collect();
            println!("    (key changed; it was {})", was.join(","));
        }
        match (e.op, &e.after) {
            (Op::Truncate, _) => println!("    (table truncated: the record was removed)"),
            (Op::Delete, _) => {
                println!("    (deleted; the removed record:)");
                elided |= print_removed(&v.changes, "    ", opts);
            }
            (Op::Insert, Some(img)) => elided |= print_image(e, img, "    ", opts),
            _ => {
                elided |= print_changes(&v.changes, "    ", opts);
                if v.unchanged > 0 && e.op == Op::Update {
                    println!("    ({} unchanged)", v.unchanged);
                }
            }
        }
    }
    if elided {
        println!();
        println!("{ELIDED_NOTE}");
    }
}

/// Prints the comparison of two versions. Without `full`, long values are shortened around
/// their changes.
pub fn print_compare(h: &History, from: usize, to: usize, changes: &[FieldChange], as_json: bool, full: bool) {
    if as_json {
        println!("{}", json!({"table": h.table.qualified(), "key": h.key.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(), "from": from, "to": to, "changes": changes}));
        return;
    }
    println!("{} v{from} → v{to}", one_line(&h.label()));
    if changes.is_empty() {
        println!("    (no differences)");
    }
    if print_changes(changes, "    ", RenderOptions { elide: !full }) {
        println!("{ELIDED_NOTE}");
    }
}

/// Prints what the demo made and where to look.
pub fn print_demo(info: &DemoInfo, d: &Durable, ws: &Workspace, as_json: bool) {
    if as_json {
        println!("{}", json!({"database": info.path, "cache": ws.cache_path(), "events": d.events, "transactions": d.transactions, "bad_batch_txid": info.bad_batch_txid, "sample_record": [info.sample_record.0, info.sample_record.1]}));
        return;
    }
    println!("Demo database: {}", info.path.display());
    println!("Captured {} events in {} transactions into {}", d.events, d.transactions, ws.cache_path().display());
    println!();
    println!("Look at:");
    println!("  rowtrail events --table {} --limit 20", info.sample_record.0);
    println!("  rowtrail history {} {}", info.sample_record.0, info.sample_record.1);
    println!("  rowtrail events --txn {}        # the bad batch update", info.bad_batch_txid);
}

/// An event's txid for the one-line list: marked `(stmt)` when it names a statement group of a
/// SQLite source without transaction numbers rather than a transaction.
fn txid_text(e: &EventRow) -> String {
    match e.grouping {
        Some(_) => format!("{}(stmt)", e.txid),
        None => e.txid.clone(),
    }
}
