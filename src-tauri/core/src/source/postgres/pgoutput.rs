//! Decoder for PostgreSQL's `pgoutput` logical replication protocol, version 1.
//!
//! The replication transport hands us the payload of each `XLogData` frame; that payload is
//! exactly one pgoutput message, starting with its one-byte tag. [`decode`] turns it into a
//! typed [`Message`]. The module is pure — bytes in, values out, no I/O, no async — so the
//! transport, the schema cache and the event builder can all be tested without a server.
//!
//! Byte layout follows the PostgreSQL documentation chapter "Logical Replication Message
//! Formats" for protocol version 1: every integer is big-endian, every string is
//! NUL-terminated UTF-8 (we request `client_encoding` UTF-8), and column values arrive as
//! `TupleData`. Binary tuple values (`'b'`) appear only when the `binary` publication option is
//! requested; both forms are supported.
//!
//! The input comes from a network peer, so the decoder is defensive: it never panics, never
//! indexes out of bounds, never reserves memory for a count it has not checked against the
//! bytes actually present, rejects trailing bytes, and reports every failure as a
//! [`DecodeError`] naming the message tag and the byte offset of the offending field.
//!
//! Column values are zero-copy: [`TupleValue::Text`] and [`TupleValue::Binary`] are
//! [`Bytes::slice`]s of the input buffer, so decoding a row allocates only its `Vec` of values.

use std::fmt;

use bytes::Bytes;

/// Microseconds between the Unix epoch (1970-01-01) and the PostgreSQL epoch (2000-01-01).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

/// Smallest possible encoding of one `Relation` column: flags (1), empty name (1),
/// type OID (4), type modifier (4).
const MIN_RELATION_COLUMN_LEN: usize = 10;

/// Converts a PostgreSQL timestamp (µs since 2000-01-01 UTC, as carried by `Begin` and
/// `Commit`) to µs since the Unix epoch, which is what the rest of Rowtrail stores.
///
/// Saturates instead of overflowing, so PostgreSQL's `infinity` / `-infinity` sentinels
/// (`i64::MAX` / `i64::MIN`) stay at the extremes rather than wrapping or panicking.
#[must_use]
pub fn pg_epoch_to_unix_us(pg_us: i64) -> i64 {
    pg_us.saturating_add(PG_EPOCH_OFFSET_US)
}

/// Formats an LSN the way PostgreSQL prints `pg_lsn` values (`"0/16B3748"`): upper-case hex of
/// the high and low 32 bits separated by a slash, so LSNs in our UI and logs match what users
/// see in `pg_replication_slots` and `pg_current_wal_lsn()`.
#[must_use]
pub fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

/// Parses an LSN in PostgreSQL's textual `pg_lsn` form (`"0/16B3748"`, hex digits of either
/// case, 1–8 digits on each side of the slash), as read back from settings or from
/// `pg_replication_slots`. Returns `None` for anything PostgreSQL itself would reject.
#[must_use]
pub fn parse_lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.split_once('/')?;
    Some((u64::from(parse_lsn_half(hi)?) << 32) | u64::from(parse_lsn_half(lo)?))
}

/// One half of a textual LSN: 1–8 hex digits and nothing else (no sign, no whitespace).
fn parse_lsn_half(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// One decoded pgoutput (protocol version 1) message.
///
/// Each variant mirrors one message of the "Logical Replication Message Formats" chapter; the
/// transport feeds them, in stream order, to the code that maintains the relation cache and
/// builds change events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `'B'`: start of a transaction; the row changes that follow belong to it.
    Begin {
        /// LSN of the transaction's commit record (the "final" LSN).
        final_lsn: u64,
        /// Commit time in µs since 2000-01-01 UTC; see [`pg_epoch_to_unix_us`].
        commit_time: i64,
        /// Transaction ID.
        xid: u32,
    },
    /// `'C'`: end of the transaction opened by the preceding [`Message::Begin`].
    Commit {
        /// Flags; currently unused by PostgreSQL (always 0), kept verbatim.
        flags: u8,
        /// LSN of the commit record.
        commit_lsn: u64,
        /// LSN just past the transaction's end; the position to acknowledge once stored.
        end_lsn: u64,
        /// Commit time in µs since 2000-01-01 UTC; see [`pg_epoch_to_unix_us`].
        commit_time: i64,
    },
    /// `'O'`: the transaction originated on another node (replication origin); may repeat.
    Origin {
        /// LSN of the commit on the origin server.
        commit_lsn: u64,
        /// Name of the replication origin.
        name: String,
    },
    /// `'R'`: describes a table's schema; sent before the first change to it in a session and
    /// again whenever its definition changes. Later messages refer to it by OID.
    Relation(RelationBody),
    /// `'Y'`: describes a non-built-in data type used by a subsequent relation.
    Type {
        /// OID of the type.
        oid: u32,
        /// Schema of the type; an empty string means `pg_catalog`.
        namespace: String,
        /// Name of the type.
        name: String,
    },
    /// `'I'`: a row was inserted.
    Insert {
        /// OID of the relation (as announced by a [`Message::Relation`]).
        relation: u32,
        /// The new row.
        new: TupleData,
    },
    /// `'U'`: a row was updated.
    Update {
        /// OID of the relation (as announced by a [`Message::Relation`]).
        relation: u32,
        /// The old key (`'K'`, when the key changed) or the whole old row (`'O'`, with
        /// `REPLICA IDENTITY FULL`); `None` when PostgreSQL sent neither.
        old: Option<OldTuple>,
        /// The new row; unchanged TOASTed columns are [`TupleValue::UnchangedToast`].
        new: TupleData,
    },
    /// `'D'`: a row was deleted.
    Delete {
        /// OID of the relation (as announced by a [`Message::Relation`]).
        relation: u32,
        /// The deleted row's key (`'K'`) or, with `REPLICA IDENTITY FULL`, the whole row (`'O'`).
        old: OldTuple,
    },
    /// `'T'`: one or more tables were truncated.
    Truncate {
        /// Option bits: 1 = `CASCADE`, 2 = `RESTART IDENTITY`.
        options: u8,
        /// OIDs of the truncated relations.
        relations: Vec<u32>,
    },
    /// `'M'`: a logical decoding message written with `pg_logical_emit_message` (only sent
    /// when the `messages` option is requested).
    Message {
        /// Whether the message was emitted inside a transaction (flag bit 1).
        transactional: bool,
        /// LSN of the message.
        lsn: u64,
        /// The message's prefix, chosen by the emitter to identify its kind.
        prefix: String,
        /// The message's content, arbitrary bytes (a zero-copy slice of the input).
        content: Bytes,
    },
}

/// Body of a [`Message::Relation`]: a table's identity and column layout, needed to interpret
/// the [`TupleData`] of later changes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationBody {
    /// OID of the relation; later messages refer to the table by this number.
    pub oid: u32,
    /// Schema of the relation; an empty string means `pg_catalog` (per the protocol).
    pub namespace: String,
    /// Name of the relation.
    pub name: String,
    /// `relreplident` from `pg_class`: `b'd'` default (primary key), `b'n'` nothing,
    /// `b'f'` full row, `b'i'` a specific index. Decides what old-row data we can expect.
    pub replica_identity: u8,
    /// Columns in the order their values appear in [`TupleData`] (generated columns omitted).
    pub columns: Vec<RelationColumn>,
}

/// One column of a [`RelationBody`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    /// Whether the column is part of the replica identity key (flag bit 1).
    pub key: bool,
    /// Column name, exactly as in the catalog (may contain spaces, quotes, non-ASCII).
    pub name: String,
    /// OID of the column's data type.
    pub type_oid: u32,
    /// Type modifier (`atttypmod`), e.g. a `varchar` length; -1 when there is none.
    pub type_modifier: i32,
}

/// Old-row data carried by [`Message::Update`] and [`Message::Delete`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldTuple {
    /// Whether `data` holds only the key columns or the entire old row.
    pub kind: OldKind,
    /// The old values; with [`OldKind::Key`], non-key columns are [`TupleValue::Null`].
    pub data: TupleData,
}

/// Which old-row submessage PostgreSQL sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OldKind {
    /// `'K'`: only the replica identity key columns (others are sent as NULL).
    Key,
    /// `'O'`: the whole old row (`REPLICA IDENTITY FULL`).
    Full,
}

/// A row's column values, in the column order of the relation's [`RelationBody`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TupleData(pub Vec<TupleValue>);

/// One column value within [`TupleData`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TupleValue {
    /// `'n'`: SQL NULL.
    Null,
    /// `'u'`: an unchanged TOASTed value that PostgreSQL did not resend; the actual value is
    /// whatever the row held before this change.
    UnchangedToast,
    /// `'t'`: the value in PostgreSQL's text output format (a zero-copy slice of the input).
    Text(Bytes),
    /// `'b'`: the value in the type's binary send format (a zero-copy slice of the input).
    Binary(Bytes),
}

/// Why a pgoutput message could not be decoded.
///
/// Carries the message tag (when there was one) and the byte offset, within the message, of
/// the field that failed, so a bad stream can be diagnosed from a log line alone. Displays as
/// e.g. `pgoutput message 'U' at byte 17: tuple value length -5 is negative`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    /// The message's tag byte, or `None` if the message was empty.
    pub tag: Option<u8>,
    /// Byte offset within the message (tag byte = 0) where the problem was detected.
    pub offset: usize,
    /// Human-readable description of the problem.
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tag {
            Some(tag) => write!(
                f,
                "pgoutput message {} at byte {}: {}",
                ByteName(tag),
                self.offset,
                self.reason
            ),
            None => write!(
                f,
                "pgoutput message at byte {}: {}",
                self.offset, self.reason
            ),
        }
    }
}

/// Displays a protocol byte as `'X'` when it is printable ASCII, otherwise as `0xNN`.
struct ByteName(u8);

impl fmt::Display for ByteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "'{}'", char::from(self.0))
        } else {
            write!(f, "0x{:02X}", self.0)
        }
    }
}

/// Decodes one pgoutput (protocol version 1) message: the payload of an `XLogData` frame,
/// starting with its tag byte.
///
/// The whole buffer must be exactly one message; trailing bytes are an error. Text and binary
/// column values and `'M'` message content are zero-copy slices of `buf`. Streaming
/// (protocol 2) and two-phase (protocol 3) messages are rejected as unsupported, since we
/// never request those options.
///
/// # Errors
///
/// Returns a [`DecodeError`] — naming the tag and the byte offset of the offending field —
/// when the buffer is empty, truncated, carries trailing bytes, has an unknown or unsupported
/// tag, a negative or oversized length or count, an invalid submessage or value kind, or a
/// name that is not NUL-terminated UTF-8.
pub fn decode(buf: Bytes) -> Result<Message, DecodeError> {
    let Some(&tag) = buf.first() else {
        return Err(DecodeError {
            tag: None,
            offset: 0,
            reason: "empty message (no tag byte)".to_owned(),
        });
    };
    let mut r = Reader {
        buf: &buf,
        pos: 1,
        tag,
    };
    let message = match tag {
        b'B' => decode_begin(&mut r)?,
        b'C' => decode_commit(&mut r)?,
        b'O' => decode_origin(&mut r)?,
        b'R' => decode_relation(&mut r)?,
        b'Y' => decode_type(&mut r)?,
        b'I' => decode_insert(&mut r)?,
        b'U' => decode_update(&mut r)?,
        b'D' => decode_delete(&mut r)?,
        b'T' => decode_truncate(&mut r)?,
        b'M' => decode_logical_message(&mut r)?,
        other => return Err(unsupported_tag(other)),
    };
    r.finish()?;
    Ok(message)
}

/// Error for a tag this decoder does not handle, explaining why when the tag is one of
/// PostgreSQL's newer-protocol messages.
fn unsupported_tag(tag: u8) -> DecodeError {
    let known = match tag {
        b'S' => Some(("Stream Start", "streaming (protocol version 2)")),
        b'E' => Some(("Stream Stop", "streaming (protocol version 2)")),
        b'c' => Some(("Stream Commit", "streaming (protocol version 2)")),
        b'A' => Some(("Stream Abort", "streaming (protocol version 2)")),
        b'b' => Some(("Begin Prepare", "two-phase commit (protocol version 3)")),
        b'P' => Some(("Prepare", "two-phase commit (protocol version 3)")),
        b'K' => Some(("Commit Prepared", "two-phase commit (protocol version 3)")),
        b'r' => Some(("Rollback Prepared", "two-phase commit (protocol version 3)")),
        b'p' => Some(("Stream Prepare", "two-phase commit (protocol version 3)")),
        _ => None,
    };
    let reason = match known {
        Some((name, feature)) => format!(
            "unsupported pgoutput message tag {} ({name}): {feature} is not requested by this \
             protocol version 1 decoder",
            ByteName(tag)
        ),
        None => format!("unknown pgoutput message tag {}", ByteName(tag)),
    };
    DecodeError {
        tag: Some(tag),
        offset: 0,
        reason,
    }
}

/// `'B'`: Int64 final LSN, Int64 commit timestamp, Int32 xid.
fn decode_begin(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let final_lsn = r.u64(&"final LSN")?;
    let commit_time = r.i64(&"commit timestamp")?;
    let xid = r.u32(&"transaction ID")?;
    Ok(Message::Begin {
        final_lsn,
        commit_time,
        xid,
    })
}

/// `'C'`: Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 commit timestamp.
fn decode_commit(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let flags = r.u8(&"commit flags")?;
    let commit_lsn = r.u64(&"commit LSN")?;
    let end_lsn = r.u64(&"end LSN")?;
    let commit_time = r.i64(&"commit timestamp")?;
    Ok(Message::Commit {
        flags,
        commit_lsn,
        end_lsn,
        commit_time,
    })
}

/// `'O'`: Int64 commit LSN on the origin, String origin name.
fn decode_origin(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let commit_lsn = r.u64(&"origin commit LSN")?;
    let name = r.string(&"origin name")?;
    Ok(Message::Origin { commit_lsn, name })
}

/// `'R'`: Int32 OID, String namespace, String name, Int8 replica identity, Int16 column count,
/// then per column Int8 flags, String name, Int32 type OID, Int32 type modifier.
fn decode_relation(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let oid = r.u32(&"relation OID")?;
    let namespace = r.string(&"relation namespace")?;
    let name = r.string(&"relation name")?;
    let identity_at = r.pos;
    let replica_identity = r.u8(&"replica identity")?;
    if !matches!(replica_identity, b'd' | b'n' | b'f' | b'i') {
        return Err(r.err_at(
            identity_at,
            format!(
                "invalid replica identity {} (expected 'd', 'n', 'f' or 'i')",
                ByteName(replica_identity)
            ),
        ));
    }
    let count_at = r.pos;
    let ncols = usize::from(r.u16(&"relation column count")?);
    // Check the count against the bytes present before reserving anything for it.
    if ncols > r.remaining() / MIN_RELATION_COLUMN_LEN {
        return Err(r.err_at(
            count_at,
            format!(
                "relation column count {ncols} needs at least {} bytes but only {} remain",
                ncols.saturating_mul(MIN_RELATION_COLUMN_LEN),
                r.remaining()
            ),
        ));
    }
    let mut columns = Vec::with_capacity(ncols);
    for i in 0..ncols {
        let flags = r.u8(&format_args!("flags of relation column {i}"))?;
        let name = r.string(&format_args!("name of relation column {i}"))?;
        let type_oid = r.u32(&format_args!("type OID of relation column {i}"))?;
        let type_modifier = r.i32(&format_args!("type modifier of relation column {i}"))?;
        columns.push(RelationColumn {
            key: flags & 1 != 0,
            name,
            type_oid,
            type_modifier,
        });
    }
    Ok(Message::Relation(RelationBody {
        oid,
        namespace,
        name,
        replica_identity,
        columns,
    }))
}

/// `'Y'`: Int32 type OID, String namespace, String name.
fn decode_type(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let oid = r.u32(&"type OID")?;
    let namespace = r.string(&"type namespace")?;
    let name = r.string(&"type name")?;
    Ok(Message::Type {
        oid,
        namespace,
        name,
    })
}

/// `'I'`: Int32 relation OID, Byte1 `'N'`, TupleData.
fn decode_insert(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let relation = r.u32(&"relation OID")?;
    r.expect_new_marker("insert")?;
    let new = r.tuple_data("new tuple")?;
    Ok(Message::Insert { relation, new })
}

/// `'U'`: Int32 relation OID, optional (`'K'` | `'O'`) TupleData, Byte1 `'N'`, TupleData.
fn decode_update(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let relation = r.u32(&"relation OID")?;
    let sub_at = r.pos;
    let sub = r.u8(&"update submessage tag")?;
    let old = match sub {
        b'K' | b'O' => {
            let old = r.old_tuple(sub)?;
            r.expect_new_marker("update")?;
            Some(old)
        }
        b'N' => None,
        other => {
            return Err(r.err_at(
                sub_at,
                format!(
                    "expected 'K', 'O' or 'N' submessage in update, found {}",
                    ByteName(other)
                ),
            ))
        }
    };
    let new = r.tuple_data("new tuple")?;
    Ok(Message::Update { relation, old, new })
}

/// `'D'`: Int32 relation OID, (`'K'` | `'O'`) TupleData.
fn decode_delete(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let relation = r.u32(&"relation OID")?;
    let sub_at = r.pos;
    let sub = r.u8(&"delete submessage tag")?;
    if !matches!(sub, b'K' | b'O') {
        return Err(r.err_at(
            sub_at,
            format!(
                "expected 'K' or 'O' submessage in delete, found {}",
                ByteName(sub)
            ),
        ));
    }
    let old = r.old_tuple(sub)?;
    Ok(Message::Delete { relation, old })
}

/// `'T'`: Int32 relation count, Int8 options, then that many Int32 relation OIDs.
fn decode_truncate(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let count_at = r.pos;
    let count = r.i32(&"truncate relation count")?;
    let options = r.u8(&"truncate options")?;
    let Ok(count) = usize::try_from(count) else {
        return Err(r.err_at(
            count_at,
            format!("truncate relation count {count} is negative"),
        ));
    };
    // Check the count against the bytes present before reserving anything for it.
    if count > r.remaining() / 4 {
        return Err(r.err_at(
            count_at,
            format!(
                "truncate relation count {count} needs {} bytes but only {} remain",
                count.saturating_mul(4),
                r.remaining()
            ),
        ));
    }
    let mut relations = Vec::with_capacity(count);
    for i in 0..count {
        relations.push(r.u32(&format_args!("truncated relation OID {i}"))?);
    }
    Ok(Message::Truncate { options, relations })
}

/// `'M'`: Int8 flags, Int64 LSN, String prefix, Int32 content length, content bytes.
fn decode_logical_message(r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let flags = r.u8(&"message flags")?;
    let lsn = r.u64(&"message LSN")?;
    let prefix = r.string(&"message prefix")?;
    let content = r.length_prefixed(&"message content")?;
    Ok(Message::Message {
        transactional: flags & 1 != 0,
        lsn,
        prefix,
        content,
    })
}

/// Bounds-checked cursor over one message. Every read either succeeds or returns a
/// [`DecodeError`] pointing at the field's offset; nothing here can panic.
struct Reader<'a> {
    /// The whole message, tag byte included.
    buf: &'a Bytes,
    /// Offset of the next unread byte; always `<= buf.len()`.
    pos: usize,
    /// The message's tag, for error reports.
    tag: u8,
}

impl<'a> Reader<'a> {
    /// An error for this message at `offset`.
    fn err_at(&self, offset: usize, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            tag: Some(self.tag),
            offset,
            reason: reason.into(),
        }
    }

    /// The unread bytes.
    fn rest(&self) -> &'a [u8] {
        let buf: &'a [u8] = self.buf;
        buf.get(self.pos..).unwrap_or_default()
    }

    /// Number of unread bytes.
    fn remaining(&self) -> usize {
        self.rest().len()
    }

    /// The error for a field of `need` bytes that does not fit in what is left.
    fn eof(&self, what: &dyn fmt::Display, need: usize) -> DecodeError {
        self.err_at(
            self.pos,
            format!(
                "unexpected end of message reading {what}: need {need} bytes, {} left",
                self.remaining()
            ),
        )
    }

    /// Reads a fixed-size field.
    fn array<const N: usize>(&mut self, what: &dyn fmt::Display) -> Result<[u8; N], DecodeError> {
        match self.rest().first_chunk::<N>() {
            Some(bytes) => {
                // The chunk lies within the buffer, so `pos + N <= buf.len()`.
                self.pos += N;
                Ok(*bytes)
            }
            None => Err(self.eof(what, N)),
        }
    }

    fn u8(&mut self, what: &dyn fmt::Display) -> Result<u8, DecodeError> {
        self.array::<1>(what).map(u8::from_be_bytes)
    }

    fn u16(&mut self, what: &dyn fmt::Display) -> Result<u16, DecodeError> {
        self.array::<2>(what).map(u16::from_be_bytes)
    }

    fn u32(&mut self, what: &dyn fmt::Display) -> Result<u32, DecodeError> {
        self.array::<4>(what).map(u32::from_be_bytes)
    }

    fn i32(&mut self, what: &dyn fmt::Display) -> Result<i32, DecodeError> {
        self.array::<4>(what).map(i32::from_be_bytes)
    }

    fn u64(&mut self, what: &dyn fmt::Display) -> Result<u64, DecodeError> {
        self.array::<8>(what).map(u64::from_be_bytes)
    }

    fn i64(&mut self, what: &dyn fmt::Display) -> Result<i64, DecodeError> {
        self.array::<8>(what).map(i64::from_be_bytes)
    }

    /// Reads a NUL-terminated UTF-8 string, naming `what` if it is unterminated or invalid.
    fn string(&mut self, what: &dyn fmt::Display) -> Result<String, DecodeError> {
        let start = self.pos;
        let mut parts = self.rest().splitn(2, |&b| b == 0);
        let raw = parts.next().unwrap_or_default();
        if parts.next().is_none() {
            return Err(self.err_at(
                start,
                format!("{what} is not NUL-terminated (message ends first)"),
            ));
        }
        let text = std::str::from_utf8(raw).map_err(|e| {
            self.err_at(
                start.saturating_add(e.valid_up_to()),
                format!("{what} is not valid UTF-8"),
            )
        })?;
        // `raw` plus its NUL lie within the buffer, so this cannot pass its end.
        self.pos = start + raw.len() + 1;
        Ok(text.to_owned())
    }

    /// Reads an Int32 length followed by that many bytes, as a zero-copy slice.
    fn length_prefixed(&mut self, what: &dyn fmt::Display) -> Result<Bytes, DecodeError> {
        let len_at = self.pos;
        let len = self.i32(&format_args!("{what} length"))?;
        let Ok(n) = usize::try_from(len) else {
            return Err(self.err_at(len_at, format!("{what} length {len} is negative")));
        };
        if n > self.remaining() {
            return Err(self.err_at(
                len_at,
                format!(
                    "{what} length {n} exceeds the {} bytes remaining",
                    self.remaining()
                ),
            ));
        }
        let start = self.pos;
        // Checked above: `n <= remaining`, so `pos + n <= buf.len()`.
        self.pos += n;
        Ok(self.buf.slice(start..self.pos))
    }

    /// Reads the `'N'` byte that introduces a new tuple.
    fn expect_new_marker(&mut self, kind: &str) -> Result<(), DecodeError> {
        let at = self.pos;
        let marker = self.u8(&format_args!("{kind} new-tuple marker"))?;
        if marker == b'N' {
            Ok(())
        } else {
            Err(self.err_at(
                at,
                format!(
                    "expected 'N' (new tuple) in {kind}, found {}",
                    ByteName(marker)
                ),
            ))
        }
    }

    /// Reads the TupleData following a `'K'` or `'O'` submessage byte already consumed.
    fn old_tuple(&mut self, sub: u8) -> Result<OldTuple, DecodeError> {
        let (kind, what) = if sub == b'K' {
            (OldKind::Key, "old key tuple")
        } else {
            (OldKind::Full, "old tuple")
        };
        let data = self.tuple_data(what)?;
        Ok(OldTuple { kind, data })
    }

    /// Reads TupleData: Int16 column count, then per column a kind byte and, for `'t'`/`'b'`,
    /// an Int32 length and the value bytes (sliced, not copied).
    fn tuple_data(&mut self, what: &str) -> Result<TupleData, DecodeError> {
        let count_at = self.pos;
        let ncols = usize::from(self.u16(&format_args!("{what} column count"))?);
        // Every column takes at least its kind byte: check before reserving anything.
        if ncols > self.remaining() {
            return Err(self.err_at(
                count_at,
                format!(
                    "{what} column count {ncols} exceeds the {} bytes remaining",
                    self.remaining()
                ),
            ));
        }
        let mut values = Vec::with_capacity(ncols);
        for col in 0..ncols {
            let kind_at = self.pos;
            let kind = self.u8(&format_args!("kind of {what} column {col}"))?;
            let value = match kind {
                b'n' => TupleValue::Null,
                b'u' => TupleValue::UnchangedToast,
                b't' => TupleValue::Text(self.length_prefixed(&"tuple value")?),
                b'b' => TupleValue::Binary(self.length_prefixed(&"tuple value")?),
                other => {
                    return Err(self.err_at(
                        kind_at,
                        format!(
                            "unknown tuple value kind {} in {what} column {col}",
                            ByteName(other)
                        ),
                    ))
                }
            };
            values.push(value);
        }
        Ok(TupleData(values))
    }

    /// Succeeds only if the whole message has been consumed.
    fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.err_at(
                self.pos,
                format!("{n} trailing bytes after a complete message"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test-only pgoutput encoder: the mirror image of the decoder.
    struct Enc(Vec<u8>);

    impl Enc {
        fn new(tag: u8) -> Self {
            Enc(vec![tag])
        }
        fn u8(mut self, v: u8) -> Self {
            self.0.push(v);
            self
        }
        fn u16(mut self, v: u16) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u32(mut self, v: u32) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn i32(mut self, v: i32) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u64(mut self, v: u64) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn i64(mut self, v: i64) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn raw(mut self, v: &[u8]) -> Self {
            self.0.extend_from_slice(v);
            self
        }
        fn str(self, s: &str) -> Self {
            self.raw(s.as_bytes()).u8(0)
        }
        fn tuple(mut self, t: &TupleData) -> Self {
            self = self.u16(u16::try_from(t.0.len()).unwrap());
            for v in &t.0 {
                self = match v {
                    TupleValue::Null => self.u8(b'n'),
                    TupleValue::UnchangedToast => self.u8(b'u'),
                    TupleValue::Text(b) => {
                        self.u8(b't').i32(i32::try_from(b.len()).unwrap()).raw(b)
                    }
                    TupleValue::Binary(b) => {
                        self.u8(b'b').i32(i32::try_from(b.len()).unwrap()).raw(b)
                    }
                };
            }
            self
        }
        fn old(self, o: &OldTuple) -> Self {
            let tag = match o.kind {
                OldKind::Key => b'K',
                OldKind::Full => b'O',
            };
            self.u8(tag).tuple(&o.data)
        }
        fn bytes(self) -> Bytes {
            Bytes::from(self.0)
        }
    }

    fn encode(m: &Message) -> Bytes {
        match m {
            Message::Begin {
                final_lsn,
                commit_time,
                xid,
            } => Enc::new(b'B').u64(*final_lsn).i64(*commit_time).u32(*xid),
            Message::Commit {
                flags,
                commit_lsn,
                end_lsn,
                commit_time,
            } => Enc::new(b'C')
                .u8(*flags)
                .u64(*commit_lsn)
                .u64(*end_lsn)
                .i64(*commit_time),
            Message::Origin { commit_lsn, name } => Enc::new(b'O').u64(*commit_lsn).str(name),
            Message::Relation(rel) => {
                let mut e = Enc::new(b'R')
                    .u32(rel.oid)
                    .str(&rel.namespace)
                    .str(&rel.name)
                    .u8(rel.replica_identity)
                    .u16(u16::try_from(rel.columns.len()).unwrap());
                for c in &rel.columns {
                    e = e
                        .u8(u8::from(c.key))
                        .str(&c.name)
                        .u32(c.type_oid)
                        .i32(c.type_modifier);
                }
                e
            }
            Message::Type {
                oid,
                namespace,
                name,
            } => Enc::new(b'Y').u32(*oid).str(namespace).str(name),
            Message::Insert { relation, new } => Enc::new(b'I').u32(*relation).u8(b'N').tuple(new),
            Message::Update { relation, old, new } => {
                let mut e = Enc::new(b'U').u32(*relation);
                if let Some(o) = old {
                    e = e.old(o);
                }
                e.u8(b'N').tuple(new)
            }
            Message::Delete { relation, old } => Enc::new(b'D').u32(*relation).old(old),
            Message::Truncate { options, relations } => {
                let mut e = Enc::new(b'T')
                    .i32(i32::try_from(relations.len()).unwrap())
                    .u8(*options);
                for r in relations {
                    e = e.u32(*r);
                }
                e
            }
            Message::Message {
                transactional,
                lsn,
                prefix,
                content,
            } => Enc::new(b'M')
                .u8(u8::from(*transactional))
                .u64(*lsn)
                .str(prefix)
                .i32(i32::try_from(content.len()).unwrap())
                .raw(content),
        }
        .bytes()
    }

    fn text(s: &str) -> TupleValue {
        TupleValue::Text(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn binary(b: &[u8]) -> TupleValue {
        TupleValue::Binary(Bytes::copy_from_slice(b))
    }

    fn col(key: bool, name: &str, type_oid: u32, type_modifier: i32) -> RelationColumn {
        RelationColumn {
            key,
            name: name.to_owned(),
            type_oid,
            type_modifier,
        }
    }

    fn users_relation() -> Message {
        Message::Relation(RelationBody {
            oid: 16384,
            namespace: "public".to_owned(),
            name: "users".to_owned(),
            replica_identity: b'd',
            columns: vec![
                col(true, "id", 23, -1),
                col(false, "naïve name", 25, -1),
                col(false, "\"quoted\" col", 1043, 68),
                col(false, "日本語 列", 3802, -1),
                col(false, "", 16, -1),
            ],
        })
    }

    /// One or more valid messages of every kind, covering every tuple value kind.
    fn samples() -> Vec<Message> {
        vec![
            Message::Begin {
                final_lsn: 0x0000_0001_16B3_7480,
                commit_time: 750_000_000_123_456,
                xid: 742,
            },
            Message::Commit {
                flags: 0,
                commit_lsn: 0x0000_0001_16B3_7480,
                end_lsn: 0x0000_0001_16B3_74B0,
                commit_time: 750_000_000_123_456,
            },
            Message::Origin {
                commit_lsn: 0xFFFF_FFFF_0000_0001,
                name: "upstream-α".to_owned(),
            },
            users_relation(),
            Message::Relation(RelationBody {
                oid: 1259,
                namespace: String::new(),
                name: "empty table".to_owned(),
                replica_identity: b'n',
                columns: vec![],
            }),
            Message::Relation(RelationBody {
                oid: 99,
                namespace: "s".to_owned(),
                name: "t".to_owned(),
                replica_identity: b'f',
                columns: vec![col(false, "a", 20, -1)],
            }),
            Message::Type {
                oid: 16390,
                namespace: "public".to_owned(),
                name: "mood".to_owned(),
            },
            Message::Insert {
                relation: 16384,
                new: TupleData(vec![
                    text("1"),
                    text("Zoë"),
                    TupleValue::Null,
                    binary(&[0x00, 0x01, 0xFF]),
                    text(""),
                ]),
            },
            Message::Insert {
                relation: 7,
                new: TupleData(vec![]),
            },
            Message::Update {
                relation: 16384,
                old: None,
                new: TupleData(vec![
                    text("1"),
                    text("Zoe"),
                    TupleValue::Null,
                    TupleValue::UnchangedToast,
                    binary(&[]),
                ]),
            },
            Message::Update {
                relation: 16384,
                old: Some(OldTuple {
                    kind: OldKind::Key,
                    data: TupleData(vec![
                        text("1"),
                        TupleValue::Null,
                        TupleValue::Null,
                        TupleValue::Null,
                        TupleValue::Null,
                    ]),
                }),
                new: TupleData(vec![
                    text("2"),
                    text("Zoe"),
                    TupleValue::Null,
                    TupleValue::UnchangedToast,
                    text("t"),
                ]),
            },
            Message::Update {
                relation: 99,
                old: Some(OldTuple {
                    kind: OldKind::Full,
                    data: TupleData(vec![text("41")]),
                }),
                new: TupleData(vec![text("42")]),
            },
            Message::Delete {
                relation: 16384,
                old: OldTuple {
                    kind: OldKind::Key,
                    data: TupleData(vec![
                        text("2"),
                        TupleValue::Null,
                        TupleValue::Null,
                        TupleValue::Null,
                        TupleValue::Null,
                    ]),
                },
            },
            Message::Delete {
                relation: 99,
                old: OldTuple {
                    kind: OldKind::Full,
                    data: TupleData(vec![binary(&42i64.to_be_bytes())]),
                },
            },
            Message::Truncate {
                options: 3,
                relations: vec![16384, 16390, 16401, u32::MAX],
            },
            Message::Truncate {
                options: 0,
                relations: vec![],
            },
            Message::Message {
                transactional: true,
                lsn: 0x0000_0002_0000_0010,
                prefix: "rowtrail".to_owned(),
                content: Bytes::from_static(&[0x00, 0x01, 0xFF, 0xFE, b'\n', 0x00, 0x80]),
            },
            Message::Message {
                transactional: false,
                lsn: 1,
                prefix: String::new(),
                content: Bytes::new(),
            },
        ]
    }

    fn decode_slice(b: &[u8]) -> Result<Message, DecodeError> {
        decode(Bytes::copy_from_slice(b))
    }

    #[test]
    fn every_sample_round_trips() {
        for m in samples() {
            assert_eq!(decode(encode(&m)), Ok(m.clone()), "{m:?}");
        }
    }

    #[test]
    fn begin_and_commit_fields_in_order() {
        let b = Enc::new(b'B')
            .u64(0x0102_0304_0506_0708)
            .i64(-5)
            .u32(0xDEAD_BEEF)
            .bytes();
        assert_eq!(
            decode(b),
            Ok(Message::Begin {
                final_lsn: 0x0102_0304_0506_0708,
                commit_time: -5,
                xid: 0xDEAD_BEEF
            })
        );
        let c = Enc::new(b'C').u8(0).u64(10).u64(20).i64(30).bytes();
        assert_eq!(
            decode(c),
            Ok(Message::Commit {
                flags: 0,
                commit_lsn: 10,
                end_lsn: 20,
                commit_time: 30
            })
        );
    }

    #[test]
    fn relation_with_non_ascii_quoted_and_spaced_names() {
        let m = users_relation();
        let Ok(Message::Relation(rel)) = decode(encode(&m)) else {
            panic!("not a relation");
        };
        let names: Vec<&str> = rel.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "naïve name", "\"quoted\" col", "日本語 列", ""]
        );
        assert!(rel.columns[0].key);
        assert!(!rel.columns[1].key);
        assert_eq!(rel.columns[2].type_modifier, 68);
        assert_eq!(rel.replica_identity, b'd');
    }

    #[test]
    fn relation_column_flags_use_bit_one_only() {
        let b = Enc::new(b'R')
            .u32(1)
            .str("")
            .str("t")
            .u8(b'i')
            .u16(2)
            .u8(0x03)
            .str("a")
            .u32(23)
            .i32(-1)
            .u8(0x02)
            .str("b")
            .u32(23)
            .i32(-1)
            .bytes();
        let Ok(Message::Relation(rel)) = decode(b) else {
            panic!("not a relation");
        };
        assert!(rel.columns[0].key);
        assert!(!rel.columns[1].key);
        assert_eq!(rel.namespace, "", "empty namespace means pg_catalog");
    }

    #[test]
    fn unchanged_toast_and_null_values() {
        let b = Enc::new(b'U')
            .u32(5)
            .u8(b'N')
            .u16(3)
            .u8(b'u')
            .u8(b'n')
            .u8(b't')
            .i32(2)
            .raw(b"hi")
            .bytes();
        assert_eq!(
            decode(b),
            Ok(Message::Update {
                relation: 5,
                old: None,
                new: TupleData(vec![
                    TupleValue::UnchangedToast,
                    TupleValue::Null,
                    text("hi")
                ]),
            })
        );
    }

    #[test]
    fn update_and_delete_old_tuple_kinds() {
        let key = Enc::new(b'U')
            .u32(1)
            .u8(b'K')
            .u16(1)
            .u8(b't')
            .i32(1)
            .raw(b"7")
            .u8(b'N')
            .u16(1)
            .u8(b't')
            .i32(1)
            .raw(b"8")
            .bytes();
        let Ok(Message::Update {
            old: Some(old),
            new,
            ..
        }) = decode(key)
        else {
            panic!("bad update");
        };
        assert_eq!(old.kind, OldKind::Key);
        assert_eq!(old.data, TupleData(vec![text("7")]));
        assert_eq!(new, TupleData(vec![text("8")]));

        let full = Enc::new(b'D').u32(1).u8(b'O').u16(1).u8(b'n').bytes();
        assert_eq!(
            decode(full),
            Ok(Message::Delete {
                relation: 1,
                old: OldTuple {
                    kind: OldKind::Full,
                    data: TupleData(vec![TupleValue::Null])
                }
            })
        );
    }

    #[test]
    fn update_without_old_tuple() {
        let b = Enc::new(b'U').u32(9).u8(b'N').u16(0).bytes();
        assert_eq!(
            decode(b),
            Ok(Message::Update {
                relation: 9,
                old: None,
                new: TupleData(vec![])
            })
        );
    }

    #[test]
    fn truncate_with_several_relations() {
        let b = Enc::new(b'T')
            .i32(3)
            .u8(1)
            .u32(100)
            .u32(200)
            .u32(300)
            .bytes();
        assert_eq!(
            decode(b),
            Ok(Message::Truncate {
                options: 1,
                relations: vec![100, 200, 300]
            })
        );
    }

    #[test]
    fn message_with_binary_content() {
        let content = [0u8, 0xFF, 0x00, 0xC3, 0x28, b'x'];
        let b = Enc::new(b'M')
            .u8(1)
            .u64(0xABCD)
            .str("audit/v1")
            .i32(6)
            .raw(&content)
            .bytes();
        assert_eq!(
            decode(b),
            Ok(Message::Message {
                transactional: true,
                lsn: 0xABCD,
                prefix: "audit/v1".to_owned(),
                content: Bytes::copy_from_slice(&content),
            })
        );
    }

    #[test]
    fn values_are_zero_copy_slices_of_the_input() {
        let input = encode(&samples()[7]);
        let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
        let Ok(Message::Insert { new, .. }) = decode(input.clone()) else {
            panic!("bad insert");
        };
        for v in &new.0 {
            if let TupleValue::Text(b) | TupleValue::Binary(b) = v {
                if !b.is_empty() {
                    assert!(range.contains(&(b.as_ptr() as usize)), "value was copied");
                }
            }
        }
    }

    #[test]
    fn every_strict_prefix_is_an_error() {
        for m in samples() {
            let full = encode(&m);
            for len in 0..full.len() {
                let r = decode(full.slice(..len));
                assert!(
                    r.is_err(),
                    "prefix {len}/{} of {m:?} decoded: {r:?}",
                    full.len()
                );
            }
        }
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        for m in samples() {
            let mut v = encode(&m).to_vec();
            let len = v.len();
            v.push(0);
            let err = decode_slice(&v).unwrap_err();
            assert_eq!(err.offset, len, "{m:?}");
            assert!(err.reason.contains("trailing"), "{err}");
        }
    }

    #[test]
    fn empty_input() {
        let err = decode(Bytes::new()).unwrap_err();
        assert_eq!(err.tag, None);
        assert_eq!(err.offset, 0);
        assert_eq!(
            err.to_string(),
            "pgoutput message at byte 0: empty message (no tag byte)"
        );
    }

    #[test]
    fn unknown_and_unsupported_tags() {
        let err = decode_slice(b"Z").unwrap_err();
        assert_eq!(err.reason, "unknown pgoutput message tag 'Z'");
        assert_eq!(err.tag, Some(b'Z'));
        assert_eq!(err.offset, 0);
        let err = decode_slice(&[0x00, 1, 2]).unwrap_err();
        assert_eq!(err.reason, "unknown pgoutput message tag 0x00");
        for tag in [b'S', b'E', b'c', b'A', b'b', b'P', b'K', b'r', b'p'] {
            let err = decode_slice(&[tag, 0, 0, 0, 1]).unwrap_err();
            assert!(
                err.reason.starts_with("unsupported pgoutput message tag"),
                "{err}"
            );
        }
        let err = decode_slice(b"S\0\0\0\x01\x01").unwrap_err();
        assert!(err.to_string().contains("Stream Start"), "{err}");
        assert!(err.to_string().contains("protocol version 2"), "{err}");
    }

    #[test]
    fn garbage_bytes() {
        let inputs: [&[u8]; 10] = [
            b"\xFF\xFF\xFF\xFF",
            b"I",
            b"IIIIIIIIIIIIIIIIIIII",
            b"R\0\0\0\0",
            b"R\0\0\0\x01\0\0x\x01\0",
            b"U\0\0\0\x01X",
            b"D\0\0\0\x01N\0\0",
            b"Yhello world",
            b"M\x01",
            b"T\xFF\xFF\xFF\xFF\x00",
        ];
        for input in inputs {
            assert!(decode_slice(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn negative_tuple_value_length_message() {
        // 'U' oid 'N' ncols=2 | 't' len=3 "abc" | 't' len=-5 -> length field at byte 17.
        let b = Enc::new(b'U')
            .u32(1)
            .u8(b'N')
            .u16(2)
            .u8(b't')
            .i32(3)
            .raw(b"abc")
            .u8(b't')
            .i32(-5)
            .bytes();
        let err = decode(b).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pgoutput message 'U' at byte 17: tuple value length -5 is negative"
        );
    }

    #[test]
    fn oversized_tuple_value_length() {
        let b = Enc::new(b'I')
            .u32(1)
            .u8(b'N')
            .u16(1)
            .u8(b'b')
            .i32(i32::MAX)
            .raw(b"xy")
            .bytes();
        let err = decode(b).unwrap_err();
        assert_eq!(err.offset, 9);
        assert!(
            err.reason.contains("exceeds the 2 bytes remaining"),
            "{err}"
        );
    }

    #[test]
    fn huge_column_count_fails_fast() {
        // 10 bytes claiming 65535 columns.
        let b = Enc::new(b'I')
            .u32(1)
            .u8(b'N')
            .u16(u16::MAX)
            .u8(b'n')
            .u8(b'n')
            .bytes();
        assert_eq!(b.len(), 10);
        let err = decode(b).unwrap_err();
        assert_eq!(err.offset, 6);
        assert!(err.reason.contains("column count 65535"), "{err}");

        let r = Enc::new(b'R')
            .u32(1)
            .str("s")
            .str("t")
            .u8(b'd')
            .u16(u16::MAX)
            .raw(&[0; 30])
            .bytes();
        let err = decode(r).unwrap_err();
        assert!(err.reason.contains("relation column count 65535"), "{err}");

        let old = Enc::new(b'D').u32(1).u8(b'K').u16(u16::MAX).bytes();
        assert!(decode(old).unwrap_err().reason.contains("65535"));
    }

    #[test]
    fn huge_and_negative_truncate_counts() {
        let b = Enc::new(b'T').i32(i32::MAX).u8(0).u32(1).bytes();
        let err = decode(b).unwrap_err();
        assert_eq!(err.offset, 1);
        assert!(err.reason.contains("2147483647"), "{err}");
        let b = Enc::new(b'T').i32(-1).u8(0).bytes();
        let err = decode(b).unwrap_err();
        assert_eq!(err.reason, "truncate relation count -1 is negative");
        // Count smaller than the OIDs present: the leftovers are trailing bytes.
        let b = Enc::new(b'T').i32(1).u8(0).u32(1).u32(2).bytes();
        assert!(decode(b).unwrap_err().reason.contains("trailing"));
    }

    #[test]
    fn negative_and_huge_message_content_length() {
        let b = Enc::new(b'M').u8(0).u64(1).str("p").i32(-1).bytes();
        let err = decode(b).unwrap_err();
        assert_eq!(err.offset, 12);
        assert_eq!(err.reason, "message content length -1 is negative");
        let b = Enc::new(b'M')
            .u8(0)
            .u64(1)
            .str("p")
            .i32(1 << 30)
            .raw(b"abc")
            .bytes();
        assert!(decode(b).unwrap_err().reason.contains("exceeds"));
    }

    #[test]
    fn invalid_utf8_names_the_field() {
        let b = Enc::new(b'R')
            .u32(1)
            .str("public")
            .raw(b"bad\xFFname\0")
            .u8(b'd')
            .u16(0)
            .bytes();
        let err = decode(b).unwrap_err();
        assert_eq!(err.reason, "relation name is not valid UTF-8");
        assert_eq!(
            err.offset, 15,
            "offset of the first invalid byte (after `R`, oid, \"public\\0\", \"bad\")"
        );

        let b = Enc::new(b'R')
            .u32(1)
            .str("public")
            .str("t")
            .u8(b'd')
            .u16(2)
            .u8(0)
            .str("ok")
            .u32(23)
            .i32(-1)
            .u8(0)
            .raw(b"\xC3\0")
            .u32(23)
            .i32(-1)
            .bytes();
        let err = decode(b).unwrap_err();
        assert_eq!(err.reason, "name of relation column 1 is not valid UTF-8");

        for (tag, field) in [
            (b'O', "origin name"),
            (b'Y', "type namespace"),
            (b'M', "message prefix"),
        ] {
            let e = match tag {
                b'O' => Enc::new(b'O').u64(1),
                b'Y' => Enc::new(b'Y').u32(1),
                _ => Enc::new(b'M').u8(0).u64(1),
            };
            let err = decode(e.raw(b"\x80\0").bytes()).unwrap_err();
            assert_eq!(err.reason, format!("{field} is not valid UTF-8"));
        }
    }

    #[test]
    fn unterminated_string() {
        let err = decode_slice(b"Y\0\0\0\x01public").unwrap_err();
        assert_eq!(err.offset, 5);
        assert!(
            err.reason.contains("type namespace is not NUL-terminated"),
            "{err}"
        );
    }

    #[test]
    fn structural_errors() {
        // Insert without 'N'.
        let err = decode(Enc::new(b'I').u32(1).u8(b'K').u16(0).bytes()).unwrap_err();
        assert_eq!(err.offset, 5);
        assert!(err.reason.contains("expected 'N'"), "{err}");
        // Update with an old tuple but no 'N' after it.
        let err = decode(
            Enc::new(b'U')
                .u32(1)
                .u8(b'O')
                .u16(0)
                .u8(b'O')
                .u16(0)
                .bytes(),
        )
        .unwrap_err();
        assert_eq!(err.offset, 8);
        // Update with an unknown submessage.
        let err = decode(Enc::new(b'U').u32(1).u8(b'X').u16(0).bytes()).unwrap_err();
        assert!(err.reason.contains("found 'X'"), "{err}");
        // Delete must carry 'K' or 'O'.
        let err = decode(Enc::new(b'D').u32(1).u8(b'N').u16(0).bytes()).unwrap_err();
        assert!(err.reason.contains("expected 'K' or 'O'"), "{err}");
        // Unknown tuple value kind.
        let err = decode(Enc::new(b'I').u32(1).u8(b'N').u16(1).u8(b'x').bytes()).unwrap_err();
        assert_eq!(err.offset, 8);
        assert!(err.reason.contains("unknown tuple value kind 'x'"), "{err}");
        // Invalid replica identity.
        let err = decode(
            Enc::new(b'R')
                .u32(1)
                .str("")
                .str("t")
                .u8(b'z')
                .u16(0)
                .bytes(),
        )
        .unwrap_err();
        assert_eq!(err.offset, 8);
        assert!(err.reason.contains("replica identity 'z'"), "{err}");
    }

    #[test]
    fn error_display_names_tag_and_offset() {
        let err = decode_slice(b"B\0\0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "pgoutput message 'B' at byte 1: unexpected end of message reading final LSN: \
             need 8 bytes, 2 left"
        );
        let err = decode_slice(&[0x01]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("pgoutput message 0x01 at byte 0"),
            "{err}"
        );
    }

    /// Deterministic xorshift64 generator (no extra crates).
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next() % n as u64) as usize
            }
        }
    }

    fn mutate(rng: &mut XorShift, v: &mut Vec<u8>) {
        const INTERESTING: [u8; 8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, b'N', b'K', b't'];
        const INTERESTING32: [u32; 6] = [
            0x7FFF_FFFF,
            0xFFFF_FFFF,
            0x8000_0000,
            0xFFFF_FFFB,
            0xFFFF,
            0,
        ];
        const TAGS: &[u8] = b"BCORYIUDTMSEcAZ";
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = if rng.below(2) == 0 {
                    INTERESTING[rng.below(INTERESTING.len())]
                } else {
                    rng.next() as u8
                };
            }
            2 => {
                let n = rng.below(v.len() + 1);
                v.truncate(n);
            }
            3 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
            4 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            5 if v.len() >= 4 => {
                let i = rng.below(v.len() - 3);
                let x = INTERESTING32[rng.below(INTERESTING32.len())].to_be_bytes();
                v[i..i + 4].copy_from_slice(&x);
            }
            6 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = a + rng.below(v.len() - a + 1);
                let chunk = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            7 if !v.is_empty() => v[0] = TAGS[rng.below(TAGS.len())],
            _ => v.push(rng.next() as u8),
        }
    }

    #[test]
    fn fuzz_mutated_messages_never_panic() {
        let seeds: Vec<Vec<u8>> = samples().iter().map(|m| encode(m).to_vec()).collect();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let (mut ok, mut err) = (0usize, 0usize);
        for iteration in 0..20_000 {
            let mut input = seeds[rng.below(seeds.len())].clone();
            for _ in 0..=rng.below(3) {
                mutate(&mut rng, &mut input);
            }
            let bytes = Bytes::from(input.clone());
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode(bytes)));
            let Ok(result) = result else {
                panic!("decoder panicked on iteration {iteration}, input {input:02X?}");
            };
            match result {
                Ok(m) => {
                    ok += 1;
                    // Whatever decodes must survive an encode/decode round trip unchanged.
                    assert_eq!(decode(encode(&m)), Ok(m), "input {input:02X?}");
                }
                Err(e) => {
                    err += 1;
                    assert!(
                        e.offset <= input.len(),
                        "offset past end: {e} for {input:02X?}"
                    );
                    assert_eq!(e.tag, input.first().copied());
                }
            }
        }
        assert_eq!(ok + err, 20_000);
        // Sanity: the mutations exercise both outcomes.
        assert!(ok > 100 && err > 100, "ok={ok} err={err}");
    }

    #[test]
    fn lsn_formatting_and_parsing() {
        assert_eq!(format_lsn(0x16B_3748), "0/16B3748");
        assert_eq!(format_lsn(0), "0/0");
        assert_eq!(format_lsn(0x0000_00AB_0000_00CD), "AB/CD");
        assert_eq!(format_lsn(u64::MAX), "FFFFFFFF/FFFFFFFF");
        assert_eq!(parse_lsn("0/16B3748"), Some(0x16B_3748));
        assert_eq!(parse_lsn("ab/cd"), Some(0x0000_00AB_0000_00CD));
        assert_eq!(parse_lsn("FFFFFFFF/FFFFFFFF"), Some(u64::MAX));
        assert_eq!(parse_lsn("00000001/00000002"), Some((1 << 32) | 2));
        for lsn in [0, 1, 0x16B_3748, 1 << 32, u64::MAX, 0x1234_5678_9ABC_DEF0] {
            assert_eq!(parse_lsn(&format_lsn(lsn)), Some(lsn));
        }
        for bad in [
            "",
            "/",
            "0/",
            "/0",
            "0",
            "0//0",
            "1/2/3",
            "+1/2",
            "1/-2",
            " 0/1",
            "0/1 ",
            "g/0",
            "123456789/0",
            "0/123456789",
            "0x1/2",
        ] {
            assert_eq!(parse_lsn(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pg_epoch_conversion() {
        assert_eq!(pg_epoch_to_unix_us(0), 946_684_800_000_000);
        assert_eq!(pg_epoch_to_unix_us(-946_684_800_000_000), 0);
        // 2024-01-01T00:00:00Z is 1_704_067_200 s after the Unix epoch.
        assert_eq!(
            pg_epoch_to_unix_us(1_704_067_200_000_000 - 946_684_800_000_000),
            1_704_067_200_000_000
        );
        assert_eq!(pg_epoch_to_unix_us(i64::MAX), i64::MAX);
        assert_eq!(
            pg_epoch_to_unix_us(i64::MIN),
            i64::MIN + 946_684_800_000_000
        );
    }
}
