//! Timestamps as users read and type them.
//!
//! The cache stores commit times as microseconds since the Unix epoch (UTC) so range filters
//! are integer comparisons; every face prints them as RFC 3339 UTC with milliseconds.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Formats Unix microseconds as `2026-11-02T09:14:03.120Z`.
pub fn format_us(us: i64) -> String {
    let nanos = i128::from(us) * 1000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => {
            let t = t.to_offset(UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            )
        }
        Err(_) => format!("@{us}us"),
    }
}

/// The current time as Unix microseconds.
pub fn now_us() -> i64 {
    let n = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Parses what a user types for `--since`/`--until`: RFC 3339 (`2026-11-02T09:14:03Z`,
/// with any offset), `2026-11-02 09:14:03` (UTC), or a bare date `2026-11-02` (midnight UTC).
/// Returns Unix microseconds, or a message saying what was expected.
pub fn parse_user_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let to_us = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1000) as i64;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(to_us(t));
    }
    let normalized = s.replace('T', " ");
    for fmt in [
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]"),
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ] {
        if let Ok(t) = PrimitiveDateTime::parse(&normalized, fmt) {
            return Ok(to_us(t.assume_utc()));
        }
    }
    if let Ok(d) = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")) {
        return Ok(to_us(d.midnight().assume_utc()));
    }
    Err(format!(
        "cannot read time {s:?}: use 2026-11-02, 2026-11-02 09:14:03 (UTC) or RFC 3339 like 2026-11-02T09:14:03+01:00"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let us = parse_user_time("2026-11-02T09:14:03.120Z").unwrap();
        assert_eq!(format_us(us), "2026-11-02T09:14:03.120Z");
        assert_eq!(parse_user_time("2026-11-02 09:14:03.12").unwrap(), us);
        assert_eq!(
            parse_user_time("2026-11-02").unwrap(),
            parse_user_time("2026-11-02T00:00:00Z").unwrap()
        );
        assert!(parse_user_time("yesterday").unwrap_err().contains("yesterday"));
    }
}
