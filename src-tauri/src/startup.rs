//! Which workspace the app opens, and what it starts in the background: the built-in demo the
//! first time, then watching every source that is not paused.
//!
//! The workspace is, in order: `--data-dir DIR` on the command line (remembered as the last
//! workspace), `ROWTRAIL_DATA_DIR` (not remembered: it is a per-run override), the last
//! workspace opened with `--data-dir` (if it still exists), or the platform's data directory
//! (`~/.local/share/rowtrail` on Linux) — the same rules as the `rowtrail` command line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rowtrail_core::api::sources::{self, AddSqliteSourceRequest};
use rowtrail_core::api::Api;
use rowtrail_core::workspace::{Workspace, DATA_DIR_ENV};
use tauri::{AppHandle, Manager};

/// The file in the app's config directory naming the last workspace opened with `--data-dir`.
const LAST_WORKSPACE_FILE: &str = "last-workspace";

/// An open workspace.
pub struct Opened {
    /// The API over it.
    pub api: Api,
    /// Where it lives.
    pub workspace: Workspace,
    /// Whether it had no cache before: the built-in demo is created in it.
    pub first_time: bool,
}

/// Finds the workspace to open (see the module's rules) and opens the API over it.
pub fn open_workspace(app: &AppHandle) -> Result<Opened, String> {
    let remembered = app.path().app_config_dir().ok().map(|d| d.join(LAST_WORKSPACE_FILE));
    let given = data_dir_arg(std::env::args_os().skip(1));
    let dir = match &given {
        Some(d) => Some(d.clone()),
        None if std::env::var_os(DATA_DIR_ENV).is_some() => None,
        None => remembered.as_deref().and_then(read_remembered),
    };
    let workspace = Workspace::resolve(dir.as_deref());
    std::fs::create_dir_all(workspace.dir()).map_err(|e| {
        format!("cannot create the workspace directory {}: {e}", workspace.dir().display())
    })?;
    let first_time = !workspace.cache_path().exists();
    let api = Api::open(&workspace).map_err(|e| {
        format!("cannot open the workspace {}: {}", workspace.dir().display(), e.message)
    })?;
    if let (Some(dir), Some(file)) = (given, remembered) {
        remember(&file, &dir);
    }
    Ok(Opened {
        api,
        workspace,
        first_time,
    })
}

/// Starts the background work: the first time, creates the built-in demo and adds it as a
/// source (which captures it and keeps watching it); then resumes watching every source that
/// is not paused. Progress and failures reach the page as the API's events.
pub fn start_background(opened: &Opened) {
    let api = opened.api.clone();
    let workspace = opened.workspace.clone();
    let first_time = opened.first_time;
    tauri::async_runtime::spawn(async move {
        api.warm_up();
        if first_time {
            if let Err(e) = add_demo(&api, &workspace).await {
                eprintln!("rowtrail-desktop: could not set up the built-in demo: {e}");
            }
        }
        if let Err(e) = api.resume_watching().await {
            eprintln!("rowtrail-desktop: could not resume watching the sources: {}", e.message);
        }
    });
}

/// Creates the demo database in the workspace and adds it as the source `demo`.
async fn add_demo(api: &Api, workspace: &Workspace) -> Result<(), String> {
    let path = workspace.demo_db_path();
    let info = tokio::task::spawn_blocking(move || rowtrail_core::demo::create(&path))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let req = AddSqliteSourceRequest {
        name: "demo".to_string(),
        path: info.path.to_string_lossy().into_owned(),
        tables: None,
    };
    sources::add_sqlite_source(api, req).await.map_err(|e| e.message)?;
    Ok(())
}

/// The value of `--data-dir DIR` or `--data-dir=DIR`, if given.
fn data_dir_arg(args: impl IntoIterator<Item = OsString>) -> Option<PathBuf> {
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--data-dir=")) {
            return Some(PathBuf::from(v));
        }
    }
    None
}

fn read_remembered(file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let dir = PathBuf::from(text.trim_end_matches(['\n', '\r']));
    (!dir.as_os_str().is_empty() && dir.is_dir()).then_some(dir)
}

fn remember(file: &Path, dir: &Path) {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(file, format!("{}\n", dir.display())));
    if let Err(e) = written {
        eprintln!("rowtrail-desktop: cannot remember the workspace in {}: {e}", file.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn data_dir_argument_in_both_spellings() {
        assert_eq!(data_dir_arg(args(&["--data-dir", "/w"])), Some(PathBuf::from("/w")));
        assert_eq!(data_dir_arg(args(&["-x", "--data-dir=/w2"])), Some(PathBuf::from("/w2")));
        assert_eq!(data_dir_arg(args(&["--other"])), None);
        assert_eq!(data_dir_arg(args(&["--data-dir"])), None);
    }

    #[test]
    fn last_workspace_round_trip_and_missing_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("cfg").join(LAST_WORKSPACE_FILE);
        assert_eq!(read_remembered(&file), None);
        remember(&file, tmp.path());
        assert_eq!(read_remembered(&file), Some(tmp.path().to_path_buf()));
        std::fs::write(&file, "/no/such/rowtrail/workspace\n").unwrap();
        assert_eq!(read_remembered(&file), None, "a workspace that is gone is not reopened");
    }
}
