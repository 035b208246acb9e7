import { columnLabel, type ColumnRef } from "../lib/labels";
import { visible } from "../lib/format";

/**
 * A column's label (or raw name), with the raw name and type on hover. Column names come from
 * the audited database, so bidirectional controls in them are shown as escapes.
 */
export function ColumnName(props: ColumnRef & { type?: string; showType?: boolean }) {
  const l = () => columnLabel(props);
  const title = () =>
    visible([`column ${l().raw}`, props.type ? `type ${props.type}` : "", l().description ?? ""]
      .filter(Boolean)
      .join("\n"));
  return (
    <span class="colname" title={title()} data-column={props.column}>
      {visible(l().label)}
      {props.showType && props.type ? <span class="col-type">{visible(props.type)}</span> : null}
    </span>
  );
}
