//! SQLite source (stub until the real one lands).
use std::path::{Path, PathBuf};
use super::{RunOptions, Source, SourceError};
use crate::cache::WriterHandle;
/// Stub.
#[derive(Debug)]
pub struct InstallReport { /// t
 pub tables: Vec<String> }
/// Stub.
pub fn install(_path: &Path, _tables: Option<&[String]>) -> Result<InstallReport, SourceError> { todo!() }
/// Stub.
pub fn uninstall(_path: &Path) -> Result<(), SourceError> { todo!() }
/// Stub.
pub struct SqliteSource { _p: PathBuf }
impl SqliteSource { /// Stub.
 pub fn new(_name: &str, path: &Path) -> SqliteSource { SqliteSource { _p: path.into() } } }
impl Source for SqliteSource { async fn run(&mut self, _w: &mut WriterHandle, _o: &RunOptions) -> Result<(), SourceError> { todo!() } }
