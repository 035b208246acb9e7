//! Where a workspace's files live.
//!
//! A workspace is one directory holding the cache (`cache.sqlite`) and the demo database.
//! Default: the platform's data directory (`~/.local/share/rowtrail` on Linux); overridden by
//! `--data-dir` or `ROWTRAIL_DATA_DIR`.

use std::path::{Path, PathBuf};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "ROWTRAIL_DATA_DIR";

/// A workspace directory.
#[derive(Debug, Clone)]
pub struct Workspace {
    dir: PathBuf,
    chosen: bool,
}

impl Workspace {
    /// The workspace at `dir`, or the default one.
    pub fn resolve(dir: Option<&Path>) -> Workspace {
        let chosen = dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()).map(PathBuf::from));
        let is_chosen = chosen.is_some();
        let dir = chosen
            .or_else(|| {
                directories::ProjectDirs::from("dev", "Rowtrail", "rowtrail")
                    .map(|p| p.data_dir().to_path_buf())
            })
            .unwrap_or_else(|| PathBuf::from(".rowtrail"));
        Workspace { dir, chosen: is_chosen }
    }

    /// Whether the directory was named by the user (`--data-dir` or `ROWTRAIL_DATA_DIR`)
    /// rather than being the platform default, so that a missing one reads as a mistyped
    /// argument rather than a first run.
    pub fn is_chosen(&self) -> bool {
        self.chosen
    }

    /// Whether the workspace holds a cache. Opening the cache creates it, so commands that
    /// only read must check this first, or a mistyped directory becomes an empty workspace.
    pub fn exists(&self) -> bool {
        self.cache_path().is_file()
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache file.
    pub fn cache_path(&self) -> PathBuf {
        self.dir.join("cache.sqlite")
    }

    /// The demo source database.
    pub fn demo_db_path(&self) -> PathBuf {
        self.dir.join("demo.sqlite")
    }
}
