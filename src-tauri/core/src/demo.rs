//! Demo (stub until the real one lands).
use std::path::{Path, PathBuf};
use crate::source::SourceError;
/// Stub.
#[derive(Debug)]
pub struct DemoInfo { /// a
 pub path: PathBuf, /// a
 pub tables: Vec<String>, /// a
 pub events_written: u64, /// a
 pub bad_batch_txid: String, /// a
 pub sample_record: (String, String) }
/// Stub.
pub fn create(_path: &Path) -> Result<DemoInfo, SourceError> { todo!() }
