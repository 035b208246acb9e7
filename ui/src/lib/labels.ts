// Column labels. The label map (issue: labels) will give cryptic columns human names; until
// it exists every column shows its raw name. This is the one place a lookup is added.

export interface ColumnRef {
  source: string;
  schema: string;
  table: string;
  column: string;
}

export interface ColumnLabel {
  /** What to show. */
  label: string;
  /** The column's real name (shown on hover when it differs). */
  raw: string;
  description?: string;
}

type Lookup = (c: ColumnRef) => { label: string; description?: string } | undefined;

let lookup: Lookup = () => undefined;

/** Installs the label map lookup (called once the labels API exists). */
export function setLabelLookup(f: Lookup): void {
  lookup = f;
}

export function columnLabel(c: ColumnRef): ColumnLabel {
  const hit = lookup(c);
  return hit ? { label: hit.label, raw: c.column, description: hit.description } : { label: c.column, raw: c.column };
}
