import { createSignal, Show, type JSX } from "solid-js";
import { Modal } from "./Modal";
import { ErrorBanner } from "./ErrorBanner";
import { Spinner } from "./Spinner";

/**
 * Asks before doing something that cannot be undone. `onConfirm` may be async: the dialog
 * shows progress, stays open on failure with the error, and closes on success.
 */
export function ConfirmDialog(props: {
  title: string;
  children: JSX.Element;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown> | unknown;
  onClose: () => void;
  testid?: string;
}) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={props.title}
      narrow
      onClose={() => !busy() && props.onClose()}
      testid={props.testid ?? "confirm-dialog"}
      footer={
        <>
          <button onClick={() => props.onClose()} disabled={busy()} data-testid="confirm-cancel">
            Cancel
          </button>
          <button class={props.danger ? "danger solid" : "primary"} onClick={confirm} disabled={busy()} data-testid="confirm-ok">
            <Show when={busy()}>
              <Spinner />
            </Show>
            {props.confirmLabel}
          </button>
        </>
      }
    >
      {/* A form, so that Enter in its one text field confirms. */}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy()) void confirm();
        }}
      >
        {props.children}
      </form>
      <Show when={error()}>
        <ErrorBanner title={`${props.confirmLabel} failed`} error={error()} />
      </Show>
    </Modal>
  );
}
