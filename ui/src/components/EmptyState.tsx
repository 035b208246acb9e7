import type { JSX } from "solid-js";

/** An empty screen or list that says what to do next. */
export function EmptyState(props: { title: string; children?: JSX.Element; actions?: JSX.Element; testid?: string }) {
  return (
    <div class="empty" data-testid={props.testid ?? "empty-state"}>
      <h2>{props.title}</h2>
      <div>{props.children}</div>
      {props.actions ? <div class="actions">{props.actions}</div> : null}
    </div>
  );
}
