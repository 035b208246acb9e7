//! Rowtrail's engine.
//!
//! Data flows one way: a [`source`] decodes a database's change stream into
//! [`event`]s, the [`cache`] stores them crash-safely in SQLite, and [`history`] and
//! [`diff`] turn stored events into record histories. The desktop shell, the HTTP face and
//! the CLI are thin layers over this crate; it knows nothing of them.

pub mod api;
pub mod cache;
pub mod demo;
pub mod diff;
pub mod event;
pub mod history;
pub mod source;
pub mod sync;
pub mod time_fmt;
pub mod workspace;
