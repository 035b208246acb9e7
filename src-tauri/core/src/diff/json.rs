//! Structural JSON diffs: objects by key, arrays aligned by an `id`-like key or by position,
//! recursing into aligned pairs; paths are JSON pointers.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::time::Instant;

use serde_json::{Map, Value};
use similar::{Algorithm, DiffTag};

use super::{JsonChange, JsonChangeKind, ValueDiff};

/// Object keys that identify array elements, in order of preference.
const ID_KEYS: [&str; 4] = ["id", "uuid", "key", "_id"];

/// `json`/`jsonb` columns. `None` when a side does not parse or (for `json`) when only the
/// formatting or key order changed; the caller then falls back to the text diff.
pub(super) fn diff_json_text(old: &str, new: &str, binary: bool, deadline: Instant) -> Option<ValueDiff> {
    let old: Value = serde_json::from_str(old).ok()?;
    let new: Value = serde_json::from_str(new).ok()?;
    json_result(&old, &new, binary, deadline)
}

/// Text or untyped columns: a structural diff when both values are JSON objects/arrays.
pub(super) fn sniff_json(old: &str, new: &str, deadline: Instant) -> Option<ValueDiff> {
    let looks_like_container =
        |s: &str| matches!(s.trim_start().as_bytes().first(), Some(b'{') | Some(b'['));
    if !looks_like_container(old) || !looks_like_container(new) {
        return None;
    }
    let old: Value = serde_json::from_str(old).ok()?;
    let new: Value = serde_json::from_str(new).ok()?;
    let container = |v: &Value| v.is_object() || v.is_array();
    if !container(&old) || !container(&new) {
        return None;
    }
    json_result(&old, &new, false, deadline)
}

fn json_result(
    old: &Value,
    new: &Value,
    equal_is_unchanged: bool,
    deadline: Instant,
) -> Option<ValueDiff> {
    let mut differ = JsonDiffer {
        deadline,
        changes: Vec::new(),
    };
    differ.node(&mut String::new(), old, new);
    if !differ.changes.is_empty() {
        Some(ValueDiff::Json {
            changes: differ.changes,
        })
    } else if equal_is_unchanged {
        Some(ValueDiff::Unchanged)
    } else {
        None
    }
}

/// Walks two JSON trees, collecting changes with their paths.
struct JsonDiffer {
    deadline: Instant,
    changes: Vec<JsonChange>,
}

impl JsonDiffer {
    fn push(&mut self, path: &str, change: JsonChangeKind) {
        self.changes.push(JsonChange {
            path: path.to_owned(),
            change,
        });
    }

    fn node(&mut self, path: &mut String, old: &Value, new: &Value) {
        if old == new {
            return;
        }
        match (old, new) {
            (Value::Object(a), Value::Object(b)) => self.objects(path, a, b),
            (Value::Array(a), Value::Array(b)) => self.arrays(path, a, b),
            _ => self.push(
                path,
                JsonChangeKind::Changed {
                    old: old.clone(),
                    new: new.clone(),
                },
            ),
        }
    }

    /// Objects by key: removed and changed keys in old order, then added keys in new order.
    fn objects(&mut self, path: &mut String, a: &Map<String, Value>, b: &Map<String, Value>) {
        let len = path.len();
        for (key, old_value) in a {
            push_key(path, key);
            match b.get(key) {
                None => self.push(
                    path,
                    JsonChangeKind::Removed {
                        old: old_value.clone(),
                    },
                ),
                Some(new_value) => self.node(path, old_value, new_value),
            }
            path.truncate(len);
        }
        for (key, new_value) in b {
            if !a.contains_key(key) {
                push_key(path, key);
                self.push(
                    path,
                    JsonChangeKind::Added {
                        new: new_value.clone(),
                    },
                );
                path.truncate(len);
            }
        }
    }

    fn arrays(&mut self, path: &mut String, a: &[Value], b: &[Value]) {
        match element_ids(a, b) {
            Some((old_ids, new_ids)) => self.arrays_by_id(path, a, b, &old_ids, &new_ids),
            None => self.arrays_by_position(path, a, b),
        }
    }

    /// Arrays of identified objects: elements matched by id, wherever they are.
    fn arrays_by_id(
        &mut self,
        path: &mut String,
        a: &[Value],
        b: &[Value],
        old_ids: &[String],
        new_ids: &[String],
    ) {
        let old_pos: HashMap<&str, usize> = old_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let new_pos: HashMap<&str, usize> = new_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let len = path.len();

        for ((i, id), old_item) in old_ids.iter().enumerate().zip(a) {
            if !new_pos.contains_key(id.as_str()) {
                push_index(path, i);
                self.push(
                    path,
                    JsonChangeKind::Removed {
                        old: old_item.clone(),
                    },
                );
                path.truncate(len);
            }
        }

        // Elements kept in order are those on a longest common subsequence of the ids
        // present on both sides; every other common element moved.
        let old_common: Vec<&str> = old_ids
            .iter()
            .map(String::as_str)
            .filter(|id| new_pos.contains_key(id))
            .collect();
        let new_common: Vec<&str> = new_ids
            .iter()
            .map(String::as_str)
            .filter(|id| old_pos.contains_key(id))
            .collect();
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &old_common,
            &new_common,
            Some(self.deadline),
        );
        let mut moved: HashSet<&str> = HashSet::new();
        for op in &ops {
            let (tag, _, new_range) = op.as_tag_tuple();
            if tag != DiffTag::Equal {
                moved.extend(new_range.filter_map(|j| new_common.get(j).copied()));
            }
        }

        for ((j, id), new_item) in new_ids.iter().enumerate().zip(b) {
            push_index(path, j);
            match old_pos
                .get(id.as_str())
                .and_then(|&i| a.get(i).map(|item| (i, item)))
            {
                None => self.push(
                    path,
                    JsonChangeKind::Added {
                        new: new_item.clone(),
                    },
                ),
                Some((i, old_item)) => {
                    if moved.contains(id.as_str()) {
                        self.push(path, JsonChangeKind::Moved { from: i, to: j });
                    }
                    self.node(path, old_item, new_item);
                }
            }
            path.truncate(len);
        }
    }

    /// Other arrays: equal elements aligned by LCS; in between, elements are paired by
    /// position and diffed recursively, the surplus reported as removed or added.
    fn arrays_by_position(&mut self, path: &mut String, a: &[Value], b: &[Value]) {
        let old_keys: Vec<String> = a.iter().map(canonical).collect();
        let new_keys: Vec<String> = b.iter().map(canonical).collect();
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &old_keys,
            &new_keys,
            Some(self.deadline),
        );
        let mut block: Option<(Range<usize>, Range<usize>)> = None;
        for op in &ops {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                if let Some((old_block, new_block)) = block.take() {
                    self.array_block(path, a, b, old_block, new_block);
                }
            } else {
                block = Some(match block.take() {
                    None => (old_range, new_range),
                    Some((old_block, new_block)) => (
                        old_block.start..old_range.end,
                        new_block.start..new_range.end,
                    ),
                });
            }
        }
        if let Some((old_block, new_block)) = block {
            self.array_block(path, a, b, old_block, new_block);
        }
    }

    fn array_block(
        &mut self,
        path: &mut String,
        a: &[Value],
        b: &[Value],
        old_block: Range<usize>,
        new_block: Range<usize>,
    ) {
        let len = path.len();
        let old_items = a.get(old_block.clone()).unwrap_or_default();
        let new_items = b.get(new_block.clone()).unwrap_or_default();
        let paired = old_items.len().min(new_items.len());
        for (k, (old_item, new_item)) in old_items.iter().zip(new_items).enumerate() {
            push_index(path, new_block.start + k);
            self.node(path, old_item, new_item);
            path.truncate(len);
        }
        for (k, old_item) in old_items.iter().enumerate().skip(paired) {
            push_index(path, old_block.start + k);
            self.push(
                path,
                JsonChangeKind::Removed {
                    old: old_item.clone(),
                },
            );
            path.truncate(len);
        }
        for (k, new_item) in new_items.iter().enumerate().skip(paired) {
            push_index(path, new_block.start + k);
            self.push(
                path,
                JsonChangeKind::Added {
                    new: new_item.clone(),
                },
            );
            path.truncate(len);
        }
    }
}

/// Appends an object key as a JSON-pointer segment (`~` → `~0`, `/` → `~1`).
fn push_key(path: &mut String, key: &str) {
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn push_index(path: &mut String, index: usize) {
    let _ = write!(path, "/{index}");
}

/// The ids of both arrays under the first key of [`ID_KEYS`] that every element on both
/// sides has, as a unique non-null scalar; `None` when no key qualifies.
fn element_ids(a: &[Value], b: &[Value]) -> Option<(Vec<String>, Vec<String>)> {
    ID_KEYS
        .iter()
        .find_map(|key| Some((ids_under(a, key)?, ids_under(b, key)?)))
}

fn ids_under(items: &[Value], key: &str) -> Option<Vec<String>> {
    let mut seen = HashSet::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item.as_object()?.get(key)? {
            Value::String(s) => format!("s{s}"),
            Value::Number(n) => format!("n{n}"),
            Value::Bool(v) => format!("b{v}"),
            Value::Null | Value::Array(_) | Value::Object(_) => return None,
        };
        if !seen.insert(id.clone()) {
            return None;
        }
        ids.push(id);
    }
    Some(ids)
}

/// A text key equal for two JSON values exactly when they are equal as JSON (object key
/// order ignored), used to align array elements.
fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|x, y| x.0.cmp(y.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{key:?}:");
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            let _ = write!(out, "{value}");
        }
    }
}

