//! The TypeScript types of the API, generated from the Rust types with ts-rs into one file,
//! `ui/src/api/types.ts`, which is committed. A test regenerates it and fails when the file is
//! stale; `UPDATE_TS_TYPES=1 cargo test -p rowtrail-core api::types` rewrites it.
//!
//! 64-bit integers (event ids, counts) are declared as `number`: they stay far below 2^53.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use ts_rs::{Config, TypeVisitor, TS};

use super::{ApiError, ServerEvent};

/// Where the generated file lives, relative to this crate.
pub const TYPES_FILE: &str = "../../ui/src/api/types.ts";

/// Collects the declarations of named types and of every type they use.
pub struct Decls {
    cfg: Config,
    seen: HashSet<TypeId>,
    decls: BTreeMap<String, (String, String)>,
}

impl Decls {
    fn new() -> Decls {
        Decls {
            cfg: Config::new().with_large_int("number"),
            seen: HashSet::new(),
            decls: BTreeMap::new(),
        }
    }

    /// Declares `T` and everything it depends on.
    pub fn add<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        if T::output_path().is_some() {
            let name = T::ident(&self.cfg);
            let decl = T::decl(&self.cfg);
            let docs = T::docs().unwrap_or_default();
            if let Some((_, other)) = self.decls.get(&name) {
                assert_eq!(*other, decl, "two different API types are both named {name} in TypeScript");
            }
            self.decls.insert(name, (docs, decl));
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

impl TypeVisitor for Decls {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        self.add::<T>();
    }
}

fn jsdoc(out: &mut String, docs: &str) {
    let docs = docs.trim();
    if docs.is_empty() {
        return;
    }
    // ts-rs hands docs over as a finished JSDoc block or as plain text, by version.
    if docs.starts_with("/**") {
        out.push_str(docs);
        out.push('\n');
        return;
    }
    out.push_str("/**\n");
    for l in docs.lines() {
        let _ = writeln!(out, " * {}", l.trim_end());
    }
    out.push_str(" */\n");
}

/// The whole generated file.
pub fn generate() -> String {
    let mut d = Decls::new();
    super::declare_command_types(&mut d);
    d.add::<ServerEvent>();
    d.add::<ApiError>();
    let mut out = String::from(
        "// Generated from the Rust API types (src-tauri/core/src/api) by ts-rs. Do not edit:\n\
         // change the Rust types and run `UPDATE_TS_TYPES=1 cargo test -p rowtrail-core api::types`.\n\n",
    );
    for (docs, decl) in d.decls.values() {
        jsdoc(&mut out, docs);
        out.push_str("export ");
        out.push_str(decl.trim());
        out.push_str("\n\n");
    }
    out.push_str("/** Every API command: `[request, response]`. */\nexport type Commands = {\n");
    for (name, req, resp) in super::command_types(&d.cfg) {
        let _ = writeln!(out, "  {name}: [{req}, {resp}];");
    }
    out.push_str("};\n");
    // ts-rs leaves trailing spaces after `{`; formatters and linters dislike them.
    let mut tidy: String = out.lines().map(|l| format!("{}\n", l.trim_end())).collect();
    if !tidy.ends_with('\n') {
        tidy.push('\n');
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_file_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(TYPES_FILE);
        let fresh = generate();
        if std::env::var_os("UPDATE_TS_TYPES").is_some() {
            std::fs::create_dir_all(path.parent().expect("a parent dir")).expect("create ui/src/api");
            std::fs::write(&path, &fresh).expect("write types.ts");
            return;
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == fresh,
            "{} is stale (the API's Rust types changed). Regenerate it with:\n  UPDATE_TS_TYPES=1 cargo test -p rowtrail-core api::types",
            path.display()
        );
    }

    #[test]
    fn every_used_type_is_declared() {
        let text = generate();
        for (_, req, resp) in crate::api::command_types(&Config::new()) {
            for t in [req, resp] {
                assert!(text.contains(&format!("export type {t} ")), "{t} is not declared");
            }
        }
        assert!(!text.contains("bigint"), "64-bit integers must be plain numbers");
        for t in ["ValueDiff", "ServerEvent", "EventFilter", "Op", "LiveState", "JsonValue", "ApiError"] {
            assert!(text.contains(&format!("export type {t} ")), "{t} is not declared");
        }
    }
}
