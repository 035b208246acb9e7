//! SQLite source (triggers into a log table).
