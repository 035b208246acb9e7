import { Show } from "solid-js";
import { ApiError } from "../transport/errors";

/** Hints on how to fix errors, by code, where the message itself does not say (it usually does). */
const FIXES: Record<string, string> = {
  events_lost: "The source can no longer deliver the missing changes: remove the source and add it again to start a fresh history.",
  internal: "This is a fault in Rowtrail. Retry; if it persists, run the same action with the `rowtrail` command line to see details.",
};

/** What failed, why (the backend's message) and how to fix it; with a retry when possible. */
export function ErrorBanner(props: { title: string; error: unknown; onRetry?: () => void; onDismiss?: () => void; testid?: string }) {
  const err = () => ApiError.from(props.error);
  return (
    <div class="banner" role="alert" data-testid={props.testid ?? "error-banner"} data-code={err().code}>
      <span class="banner-icon" aria-hidden="true">
        !
      </span>
      <div class="banner-body">
        <div class="banner-title">{props.title}</div>
        <div class="banner-msg">{err().message}</div>
        <Show when={FIXES[err().code]}>{(fix) => <div class="banner-msg muted">{fix()}</div>}</Show>
        <div class="banner-code">error code: {err().code}</div>
      </div>
      <Show when={props.onRetry}>
        <button class="small" onClick={() => props.onRetry?.()} data-testid="retry">
          Retry
        </button>
      </Show>
      <Show when={props.onDismiss}>
        <button class="small ghost" onClick={() => props.onDismiss?.()} aria-label="Dismiss">
          ✕
        </button>
      </Show>
    </div>
  );
}
