// Presentation helpers (no business logic).

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * Characters that reorder or hide text when a browser applies them (bidirectional controls such
 * as RIGHT-TO-LEFT OVERRIDE, which would make `exe.txt` read `txt.exe`).
 */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Audited text as it is, with bidirectional control characters shown as visible escapes
 * (`\u{202e}`, as the CLI shows terminal escapes) instead of applied.
 */
export function visible(s: string): string;
export function visible(s: string | null | undefined): string | null | undefined;
export function visible(s: string | null | undefined): string | null | undefined {
  if (!s) return s;
  return s.replace(BIDI, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** The local time zone as an offset label: `UTC`, `UTC+01:00`, `UTC−05:30`. */
export function zoneLabel(at: Date = new Date()): string {
  const off = -at.getTimezoneOffset();
  if (off === 0) return "UTC";
  const a = Math.abs(off);
  return `UTC${off > 0 ? "+" : "−"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** `2026-11-02 09:14:03 UTC+01:00`: a local time with its zone, for single times on a screen. */
export function formatTimeZoned(iso: string | null | undefined): string {
  const t = formatTime(iso);
  if (!iso || t === iso || t === "—") return t;
  return `${t} ${zoneLabel(new Date(iso))}`;
}

/**
 * A local time in a list whose header already names the zone (`header`, from zoneLabel()):
 * the zone is repeated only for a time whose offset differs (the other side of a summer-time
 * change), so no time reads as if it were in the header's zone when it is not.
 */
export function formatTimeUnder(iso: string | null | undefined, header: string = zoneLabel()): string {
  if (!iso) return formatTime(iso);
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) || zoneLabel(d) === header ? formatTime(iso) : formatTimeZoned(iso);
}

/** `2026-11-02 09:14:03` in local time (the ISO/UTC form goes in a tooltip). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A tooltip with the exact commit time in UTC. */
export function timeTitle(iso: string | null | undefined): string {
  return iso ? `${iso} (UTC)` : "";
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return (u === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + " " + units[u];
}

const nf = new Intl.NumberFormat("en-US");
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : nf.format(n);
}

export function formatRate(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  return n >= 100 ? nf.format(Math.round(n)) : n.toFixed(1);
}

/** The record key as shown in lists: `5001`, or `shp_id=5001 ln_no=2` for composite keys. */
export function formatKey(key: ReadonlyArray<readonly [string, string | null]>): string {
  if (key.length === 1) return key[0]![1] ?? "NULL";
  return key.map(([k, v]) => `${k}=${v ?? "NULL"}`).join(" ");
}

/** The actor (or the first context value) of a transaction context. */
export function contextActor(ctx: Record<string, unknown> | null | undefined): string {
  if (!ctx) return "";
  const a = ctx.actor ?? ctx.user ?? ctx.whodunnit;
  if (typeof a === "string") return a;
  const first = Object.values(ctx).find((v) => typeof v === "string");
  return typeof first === "string" ? first : "";
}

/** `key: value` lines of a context, for tooltips. */
export function contextText(ctx: Record<string, unknown> | null | undefined): string {
  if (!ctx) return "";
  return Object.entries(ctx)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("\n");
}

/** A datetime-local input value → RFC 3339 (the input is local time). */
export function localInputToIso(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
