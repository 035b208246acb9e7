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
}

impl Workspace {
    /// The workspace at `dir`, or the default one.
    pub fn resolve(dir: Option<&Path>) -> Workspace {
        let dir = dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(DATA_DIR_ENV).map(PathBuf::from))
            .or_else(|| {
                directories::ProjectDirs::from("dev", "Rowtrail", "rowtrail")
                    .map(|p| p.data_dir().to_path_buf())
            })
            .unwrap_or_else(|| PathBuf::from(".rowtrail"));
        Workspace { dir }
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
