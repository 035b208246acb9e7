import { columnLabel, type ColumnRef } from "../lib/labels";

/** A column's label (or raw name), with the raw name and type on hover. */
export function ColumnName(props: ColumnRef & { type?: string; showType?: boolean }) {
  const l = () => columnLabel(props);
  const title = () =>
    [`column ${l().raw}`, props.type ? `type ${props.type}` : "", l().description ?? ""]
      .filter(Boolean)
      .join("\n");
  return (
    <span class="colname" title={title()} data-column={props.column}>
      {l().label}
      {props.showType && props.type ? <span class="col-type">{props.type}</span> : null}
    </span>
  );
}
