export function Spinner(props: { large?: boolean; label?: string }) {
  return (
    <span class="spinner-wrap" role="status" aria-live="polite">
      <span class={"spinner" + (props.large ? " large" : "")} aria-hidden="true" />
      <span class="sr-only">{props.label ?? "Loading"}</span>
    </span>
  );
}

/** A spinner with a sentence, for screens and sections that are loading. */
export function Loading(props: { children: string }) {
  return (
    <div class="loading-line" data-testid="loading">
      <Spinner />
      <span>{props.children}</span>
    </div>
  );
}
